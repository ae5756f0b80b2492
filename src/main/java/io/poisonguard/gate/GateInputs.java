package io.poisonguard.gate;

/**
 * The measurements the gate judges a batch on.
 *
 * @param rowsRead every record read
 * @param quarantined records the detectors flagged
 * @param rejected records that could not be read
 * @param maxPsi largest population stability index of any feature against the reference, or null without one
 * @param maxPsiFeature the feature with that PSI
 * @param maxLabelShareChange largest absolute change of a class's share against the reference, or null
 * @param maxLabelShareClass the class with that change
 */
public record GateInputs(long rowsRead, long quarantined, long rejected, Double maxPsi, String maxPsiFeature,
    Double maxLabelShareChange, String maxLabelShareClass) {}
