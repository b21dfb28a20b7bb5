package dev.tally.savepoints;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class SavepointOperationsTest {
  private final TestingFlinkRest flink = new TestingFlinkRest();
  private final AtomicLong nanos = new AtomicLong();
  private final ByteArrayOutputStream progress = new ByteArrayOutputStream();

  private SavepointOperations operations(Duration timeout) {
    return new SavepointOperations(
        flink,
        new PrintStream(progress, true),
        timeout,
        Duration.ZERO,
        () -> nanos.addAndGet(1_000_000_000L)); // every poll: one second later
  }

  @Test
  void shouldWaitForTheSavepointAndReturnItsPath() throws Exception {
    flink.statuses.add(new FlinkRest.SavepointResult.Pending());
    flink.statuses.add(new FlinkRest.SavepointResult.Pending());
    flink.statuses.add(new FlinkRest.SavepointResult.Pending());
    flink.statuses.add(new FlinkRest.SavepointResult.Completed("file:/sp/savepoint-1"));

    assertThat(operations(Duration.ofMinutes(1)).stop("job1", "file:/sp"))
        .isEqualTo("file:/sp/savepoint-1");
    assertThat(flink.lastTrigger).isEqualTo("stop job1 file:/sp");
    assertThat(progress.toString()).contains("stop-with-savepoint of job1 in progress");
  }

  @Test
  void shouldFailWithTheClustersReason() {
    flink.statuses.add(
        new FlinkRest.SavepointResult.Failed("CheckpointException: task not running"));
    assertThatThrownBy(() -> operations(Duration.ofMinutes(1)).savepoint("job1", "file:/sp"))
        .hasMessage("savepoint of job job1 failed: CheckpointException: task not running");
  }

  @Test
  void shouldGiveUpAtTheDeadline() {
    assertThatThrownBy(() -> operations(Duration.ofSeconds(5)).savepoint("job1", "file:/sp"))
        .hasMessageContaining("did not complete within 5 s");
  }
}
