package io.poisonguard.report;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The report's charts, drawn by XChart and embedded as PNG data URIs so the report opens from disk with no
 * network. Rendering needs no display: AWT runs headless.
 */
final class ReportCharts {
  static {
    System.setProperty("java.awt.headless", "true");
  }

  private static final int WIDTH = 620;
  private static final int HEIGHT = 300;
  /** Most bars in one bar chart; tables under the charts list the rest. */
  static final int MAX_BARS = 30;

  private ReportCharts() {}

  /**
   * A detector's score histogram, kept and quarantined rows each as a share of their group (so a few quarantined
   * rows stay visible next to many kept ones), with a vertical line at the lowest score the detector fired at.
   */
  static String histogram(RunDocument.DetectorStat d) {
    XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(d.detector())
        .xAxisTitle(d.logScale() ? "sign(score)·log10(1+|score|)" : "score").yAxisTitle("share of group").build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE).setChartTitleVisible(true)
        .setMarkerSize(0);
    chart.getStyler().setXAxisDecimalPattern("0.###").setYAxisDecimalPattern("0.##");
    double[] x = new double[d.kept().length];
    for (int b = 0; b < x.length; b++) {
      x[b] = d.edges()[b];
    }
    addShare(chart, "kept", x, d.kept());
    addShare(chart, "quarantined", x, d.quarantined());
    if (d.lowestFired() != null && x.length > 0) {
      double t = d.logScale() ? Math.signum(d.lowestFired()) * Math.log10(1 + Math.abs(d.lowestFired()))
          : d.lowestFired();
      XYSeries line = chart.addSeries("lowest fired", new double[] {t, t}, new double[] {0, 1});
      line.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line).setMarker(SeriesMarkers.NONE);
    }
    return png(chart);
  }

  private static void addShare(XYChart chart, String name, double[] x, long[] counts) {
    long total = 0;
    for (long c : counts) {
      total += c;
    }
    if (total == 0) {
      return;
    }
    double[] y = new double[counts.length];
    for (int b = 0; b < counts.length; b++) {
      y[b] = counts[b] / (double) total;
    }
    chart.addSeries(name, x, y).setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.StepArea)
        .setMarker(SeriesMarkers.NONE);
  }

  /** A bar chart of the first {@link #MAX_BARS} entries of {@code values}, in their order. */
  static String bars(String title, String yTitle, Map<String, ? extends Number> values) {
    CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title).yAxisTitle(yTitle)
        .build();
    chart.getStyler().setXAxisLabelRotation(45);
    chart.getStyler().setLegendVisible(false);
    List<String> names = new ArrayList<>();
    List<Number> heights = new ArrayList<>();
    for (Map.Entry<String, ? extends Number> e : values.entrySet()) {
      if (names.size() == MAX_BARS) {
        break;
      }
      names.add(e.getKey().length() > 24 ? e.getKey().substring(0, 23) + "…" : e.getKey());
      heights.add(e.getValue());
    }
    chart.addSeries(yTitle, names, heights);
    return png(chart);
  }

  /** Accuracy against a budget, one line per named series (null points are left out). */
  static String lines(String title, String xTitle, Map<String, double[][]> series) {
    XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xTitle)
        .yAxisTitle("accuracy").build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
    chart.getStyler().setYAxisMin(0.0).setYAxisMax(1.0).setXAxisDecimalPattern("0.##").setYAxisDecimalPattern("0.##");
    series.forEach((name, xy) -> {
      if (xy[0].length > 0) {
        chart.addSeries(name, xy[0], xy[1]).setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
      }
    });
    return png(chart);
  }

  private static String png(Chart<?, ?> chart) {
    try {
      return "data:image/png;base64," + Base64.getEncoder().encodeToString(
          BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot render the chart '" + chart.getTitle() + "'", e);
    }
  }
}
