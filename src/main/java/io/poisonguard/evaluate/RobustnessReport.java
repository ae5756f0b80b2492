package io.poisonguard.evaluate;

import java.util.List;

/**
 * What a trained model withstands on held-out rows, as served (inputs clipped by its guard).
 *
 * @param rows test rows scored
 * @param cleanAccuracy accuracy on unperturbed rows
 * @param cleanFlagged share of unperturbed rows the squeezing guard flags as likely evasion
 * @param attacks accuracy under attack per budget
 * @param certified certified accuracy per poison budget r (share of rows predicted right with radius ≥ r), empty
 *     unless the model certifies its predictions
 */
public record RobustnessReport(long rows, double cleanAccuracy, double cleanFlagged, List<Attack> attacks,
    List<Certified> certified) {
  public RobustnessReport {
    attacks = List.copyOf(attacks);
    certified = List.copyOf(certified);
  }

  /**
   * Accuracy at one L∞ budget.
   *
   * @param epsilon budget in robustly scaled units
   * @param whiteBox accuracy under PGD on the model's own gradient, null when the model has none (trees, ensembles)
   * @param blackBox accuracy under PGD crafted on an independently trained linear surrogate and transferred
   * @param whiteBoxFlagged share of white-box inputs the guard flags, null with {@code whiteBox}
   * @param blackBoxFlagged share of transferred inputs the guard flags
   */
  public record Attack(double epsilon, Double whiteBox, double blackBox, Double whiteBoxFlagged,
      double blackBoxFlagged) {}

  /**
   * @param radius poison budget: training rows inserted or removed
   * @param accuracy share of test rows predicted right with a certified radius of at least {@code radius}
   */
  public record Certified(int radius, double accuracy) {}
}
