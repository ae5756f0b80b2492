/**
 * Stage 6 of the flow: hardened training on the guard's clean output. Trainers ({@link
 * io.poisonguard.train.ModelTrainer} over Spark rows, {@link io.poisonguard.train.LocalTrainer} inside one task)
 * produce {@link io.poisonguard.train.Classifier}s over the detector suite's prepared features; hardening
 * (adversarial augmentation, robust and trimmed losses, regularizers, distillation, partition ensembles, input
 * guards) is configured per pipeline.
 */
package io.poisonguard.train;
