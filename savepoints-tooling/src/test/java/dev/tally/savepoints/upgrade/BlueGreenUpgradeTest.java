package dev.tally.savepoints.upgrade;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.savepoints.FlinkRest;
import org.apache.flink.api.common.JobStatus;
import org.junit.jupiter.api.Test;

/**
 * Blue restored after its savepoint was taken: an intermediate savepoint is no restore point, so
 * blue went back to an older checkpoint and re-ran the savepoint's transactions on another
 * timeline; green must not start from it (docs/scale-out.md §14, review of the loop copy).
 */
class BlueGreenUpgradeTest {
  @Test
  void aBlueThatRestoredSinceTheSavepointIsRefusedWithWhatItMeans() throws Exception {
    BackfillTest.TestingFlinkRest blue = new BackfillTest.TestingFlinkRest(JobStatus.RUNNING);
    blue.restore = new FlinkRest.Restore(3, 1_000);
    FlinkRest.Restore before = blue.latestRestore("blue");
    assertThatCode(() -> BlueGreenUpgrade.requireNoRestoreSince(blue, "blue", before, "x"))
        .as("the restore before the savepoint is no reason")
        .doesNotThrowAnyException();

    blue.restore = new FlinkRest.Restore(7, 2_000);
    assertThatThrownBy(
            () ->
                BlueGreenUpgrade.requireNoRestoreSince(
                    blue, "blue", before, "nothing was copied into green's tables"))
        .hasMessageContaining("blue restarted from checkpoint 7")
        .hasMessageContaining("nothing was copied into green's tables")
        .hasMessageContaining("nothing was started");

    BackfillTest.TestingFlinkRest never = new BackfillTest.TestingFlinkRest(JobStatus.RUNNING);
    assertThatCode(() -> BlueGreenUpgrade.requireNoRestoreSince(never, "blue", null, "x"))
        .doesNotThrowAnyException();
    never.restore = new FlinkRest.Restore(1, 5);
    assertThatThrownBy(() -> BlueGreenUpgrade.requireNoRestoreSince(never, "blue", null, "x"))
        .hasMessageContaining("blue restarted from checkpoint 1");
    assertThat(never.cancelled).isEmpty();
  }
}
