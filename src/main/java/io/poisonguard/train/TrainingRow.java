package io.poisonguard.train;

import java.io.Serializable;

/**
 * One prepared training row as the linear trainer's passes read it.
 *
 * @param x prepared features
 * @param label class index
 * @param weight the row's weight in the loss
 */
record TrainingRow(double[] x, int label, double weight) implements Serializable {}
