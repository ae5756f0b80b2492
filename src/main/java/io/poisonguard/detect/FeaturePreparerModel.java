package io.poisonguard.detect;

import io.poisonguard.spark.Columns;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.attribute.AttributeGroup;
import org.apache.spark.ml.attribute.NominalAttribute;
import org.apache.spark.ml.attribute.NumericAttribute;
import org.apache.spark.ml.attribute.Attribute;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.StructType;

/**
 * A fitted {@link FeaturePreparer}: adds the prepared vector and the label index with built-in expressions (no
 * per-row user code), so preparation costs about one projection.
 */
public final class FeaturePreparerModel extends Model<FeaturePreparerModel> implements MLWritable {
  /** Category key standing for a missing categorical value. */
  static final String MISSING = "\u0000missing";

  private final String uid;
  private final State state;
  private final Param<String> labelCol;

  /**
   * What the preparer learned.
   *
   * @param numeric numeric feature columns
   * @param medians their medians (imputation value and centre)
   * @param scales their robust scales
   * @param categorical categorical feature columns
   * @param rarity per categorical column, −ln(share) of each remembered category
   * @param unseenRarity rarity given to a category never seen (half a row's share)
   * @param classes class names; a class's index is its position
   */
  public record State(String[] numeric, double[] medians, double[] scales, String[] categorical,
      Map<String, Map<String, Double>> rarity, double unseenRarity, String[] classes) {}

  /** A model with the given uid and state. */
  public FeaturePreparerModel(String uid, State state) {
    this.uid = uid;
    this.state = state;
    this.labelCol = new Param<>(this, "labelCol", "label column");
  }

  @Override
  public String uid() {
    return uid;
  }

  /** Label column. */
  public Param<String> labelCol() {
    return labelCol;
  }

  /** The learned state. */
  public State state() {
    return state;
  }

  /** Names of the prepared features, in vector order. */
  public List<String> featureNames() {
    List<String> names = new ArrayList<>(List.of(state.numeric()));
    names.addAll(List.of(state.categorical()));
    return names;
  }

  @Override
  public StructType transformSchema(StructType schema) {
    for (String c : featureNames()) {
      schema.apply(c);
    }
    schema.apply(getOrDefault(labelCol));
    return schema.add(Columns.FEATURES, new org.apache.spark.ml.linalg.VectorUDT(), false)
        .add(Columns.LABEL_INDEX, org.apache.spark.sql.types.DataTypes.DoubleType, false);
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    transformSchema(dataset.schema());
    Dataset<Row> out = dataset.toDF();
    List<String> temp = new ArrayList<>();
    for (int j = 0; j < state.numeric().length; j++) {
      Column x = FeaturePreparer.finite(state.numeric()[j]);
      Column infinite = functions.col(state.numeric()[j]).cast("double").isin(Double.POSITIVE_INFINITY,
          Double.NEGATIVE_INFINITY);
      // an infinity keeps its sign at full strength: it is evidence, not a missing value
      Column value = functions.when(infinite, functions.col(state.numeric()[j]).cast("double"))
          .otherwise(functions.coalesce(x, functions.lit(state.medians()[j])));
      String name = "__prep_n" + j;
      out = out.withColumn(name, value.minus(state.medians()[j]).divide(state.scales()[j]));
      temp.add(name);
    }
    for (int j = 0; j < state.categorical().length; j++) {
      Map<String, Double> rarity = state.rarity().get(state.categorical()[j]);
      Column keys = functions.lit(rarity.keySet().toArray(String[]::new));
      Column values = functions.lit(rarity.values().stream().mapToDouble(Double::doubleValue).toArray());
      Column key = functions.coalesce(functions.col(state.categorical()[j]).cast("string"), functions.lit(MISSING));
      String name = "__prep_c" + j;
      out = out.withColumn(name, functions.coalesce(functions.element_at(functions.map_from_arrays(keys, values), key),
          functions.lit(state.unseenRarity())));
      temp.add(name);
    }
    Dataset<Row> assembled = new VectorAssembler().setInputCols(temp.toArray(String[]::new))
        .setOutputCol(Columns.FEATURES).transform(out).drop(temp.toArray(String[]::new));
    Attribute[] attributes = featureNames().stream()
        .map(n -> NumericAttribute.defaultAttr().withName(n)).toArray(Attribute[]::new);
    Column classIndex = functions.array_position(functions.lit(state.classes()),
        functions.col(getOrDefault(labelCol)).cast("string")).minus(1).cast("double");
    return assembled
        .withColumn(Columns.FEATURES, functions.col(Columns.FEATURES),
            new AttributeGroup(Columns.FEATURES, attributes).toMetadata())
        .withColumn(Columns.LABEL_INDEX, functions.when(classIndex.geq(0), classIndex).otherwise(Double.NaN),
            NominalAttribute.defaultAttr().withName(Columns.LABEL_INDEX).withValues(state.classes()).toMetadata());
  }

  @Override
  public FeaturePreparerModel copy(ParamMap extra) {
    return copyValues(new FeaturePreparerModel(uid, state), extra);
  }

  @Override
  public MLWriter write() {
    return ModelState.writer(this, state);
  }

  /** Reader for saved models. */
  public static MLReader<FeaturePreparerModel> read() {
    return ModelState.reader(State.class, FeaturePreparerModel::new);
  }

  /** Loads a saved model. */
  public static FeaturePreparerModel load(String path) {
    return read().load(path);
  }
}
