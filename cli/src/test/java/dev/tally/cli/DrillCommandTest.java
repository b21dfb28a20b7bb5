package dev.tally.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.cli.drill.Fault;
import org.junit.jupiter.api.Test;

/** What {@code tally drill} accepts, and its user mistakes refused before any stack starts. */
class DrillCommandTest {
  @Test
  void shouldRunAListOfFaultsOnceEachInTheirUsualOrder() {
    assertThat(Fault.parse("kafka-restart, taskmanager-kill,kafka-restart"))
        .containsExactly(Fault.TASKMANAGER_KILL, Fault.KAFKA_RESTART);
    assertThat(Fault.parse("all")).containsExactly(Fault.values());
  }

  @Test
  void shouldRefuseAnUnknownFaultInAListAndAMalformedJobOptionInOneLine() {
    String unknown = UsageErrors.stderrOf("drill", "--fault", "kafka-restart,meteor");
    assertThat(unknown).contains("unknown fault 'meteor'").doesNotContain("\tat ");
    assertThat(unknown.strip().lines()).hasSize(1);
    String option =
        UsageErrors.stderrOf("drill", "--fault", "kafka-restart", "--job-option", "novalue");
    assertThat(option).contains("--job-option must be KEY=VALUE").doesNotContain("\tat ");
  }
}
