package io.poisonguard.gate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.config.GateConfig;
import org.junit.jupiter.api.Test;

class GateTest {
  private final Gate gate = new Gate(GateConfig.defaults());

  @Test
  void passesACleanBatch() {
    GateDecision d = gate.decide(new GateInputs(1000, 10, 0, 0.02, "f", 0.01, "spam"));
    assertEquals(GateDecision.Outcome.PASS, d.outcome());
    assertTrue(d.reasons().isEmpty());
  }

  @Test
  void warnsBetweenTheWarnAndMaxThresholds() {
    GateDecision d = gate.decide(new GateInputs(1000, 80, 0, null, null, null, null));
    assertEquals(GateDecision.Outcome.WARN, d.outcome());
    assertTrue(d.reasons().get(0).contains("gate.warn_quarantine_fraction"), d.reasons().get(0));
  }

  @Test
  void failsAndSaysWhichThresholdEachMeasurementBroke() {
    GateDecision d = gate.decide(new GateInputs(1000, 300, 60, 0.4, "capitalTotal", 0.2, "spam"));
    assertEquals(GateDecision.Outcome.FAIL, d.outcome());
    assertEquals(4, d.reasons().size());
    assertTrue(d.reasons().get(0).startsWith("quarantined share 30.00% (300 of 1000 rows)"), d.reasons().get(0));
    assertTrue(d.reasons().get(2).contains("'capitalTotal'") && d.reasons().get(2).contains("gate.max_psi"));
    assertTrue(d.reasons().get(3).contains("'spam'") && d.reasons().get(3).contains("gate.max_label_share_change"));
  }

  @Test
  void zeroToleranceFailsOnASingleQuarantinedRow() {
    GateConfig strict = GateConfig.of(0.0, 0.0, null, null, null, null, null);
    assertEquals(GateDecision.Outcome.FAIL, new Gate(strict).decide(new GateInputs(1000, 1, 0, null, null, null,
        null)).outcome());
    assertEquals(GateDecision.Outcome.PASS, new Gate(strict).decide(new GateInputs(1000, 0, 0, null, null, null,
        null)).outcome());
  }
}
