package io.poisonguard.redteam;

import io.poisonguard.config.ConfigException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Every attack the red team knows, by name; adding one is a class and a line here. */
public final class Attacks {
  private static final Map<String, Attack> ATTACKS = new LinkedHashMap<>();

  static {
    for (Attack a : List.of(new LabelFlip(), new TargetedLabelFlip(), new Backdoor(), new CleanLabel(),
        new GradientPoisoning(), new OutlierInjection(), new Flood(), new SourceAttack())) {
      ATTACKS.put(a.name(), a);
    }
  }

  private Attacks() {}

  /** Names of every attack. */
  public static List<String> names() {
    return List.copyOf(ATTACKS.keySet());
  }

  /** The attack called {@code name}; a usage error listing the attacks otherwise. */
  public static Attack get(String name) {
    Attack attack = ATTACKS.get(name);
    if (attack == null) {
      throw new ConfigException("redteam: unknown --attack '" + name + "'; attacks: " + String.join(", ", names()));
    }
    return attack;
  }
}
