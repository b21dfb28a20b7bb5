package dev.tally.jobs.upgrade;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class BlueGreenUpgradeTest {
  @Test
  void shouldRefuseAGreenFromTheSavepointWithTheDistinctIdLayoutAndNameTheRecount() {
    List<String> args =
        List.of("--tally.generation", "g2", "--tally.persons.layout", "distinct-id");
    assertThat(
            BlueGreenUpgrade.distinctIdLayoutRefusal(BlueGreenUpgrade.GreenStart.SAVEPOINT, args))
        .contains("distinct-id")
        .contains("--green-start recount");
    assertThat(BlueGreenUpgrade.distinctIdLayoutRefusal(BlueGreenUpgrade.GreenStart.RECOUNT, args))
        .isNull();
    assertThat(
            BlueGreenUpgrade.distinctIdLayoutRefusal(
                BlueGreenUpgrade.GreenStart.SAVEPOINT,
                List.of("--tally.generation", "g2", "--tally.persons.layout", "project")))
        .isNull();
  }
}
