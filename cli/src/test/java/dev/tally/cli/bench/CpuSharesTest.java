package dev.tally.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The bench's CPU accounting attributes CPU burnt by this JVM to this JVM's role. */
class CpuSharesTest {
  @Test
  void shouldAttributeCpuBurntHereToTheCliRole() {
    assumeTrue(CpuShares.available(), "needs Linux /proc");
    CpuShares.Snapshot before = CpuShares.take();
    long x = spinFor400Millis();
    CpuShares.Snapshot after = CpuShares.take();
    Map<String, Double> shares = CpuShares.between(before, after);
    assertThat(x).isNotNegative();
    double cores = Runtime.getRuntime().availableProcessors();
    assertThat(shares.get("tally CLI (traffic, bench)"))
        .as("one busy thread is about 1/%s of the machine", cores)
        .isBetween(0.5 / cores, 1.0);
    assertThat(Bench.cpuShares(shares)).contains("tally CLI (traffic, bench)").contains("idle");
  }

  @Test
  void shouldCountTheTaskManagersCpuWithTheJitApart() {
    CpuShares.Snapshot before =
        new CpuShares.Snapshot(
            0,
            Map.of("Flink TaskManager", 10.0, "Kafka broker", 5.0),
            Map.of("C# CompilerThre", 2.0, "deduplicate -> ", 3.0),
            Map.of());
    CpuShares.Snapshot after =
        new CpuShares.Snapshot(
            1_000_000_000L,
            Map.of("Flink TaskManager", 25.0, "Kafka broker", 9.0),
            Map.of("C# CompilerThre", 6.0, "deduplicate -> ", 11.0),
            Map.of());
    assertThat(CpuShares.taskManagerCpuSeconds(before, after)).containsExactly(15.0, 4.0);
  }

  @Test
  void shouldSplitThisJvmsCpuByThreadGroup() {
    assumeTrue(CpuShares.available(), "needs Linux /proc");
    CpuShares.Snapshot before = CpuShares.take();
    long x = spinFor400Millis();
    Map<String, Double> threads = CpuShares.cliThreads(before, CpuShares.take());
    assertThat(x).isNotNegative();
    assertThat(threads.values().stream().mapToDouble(Double::doubleValue).max().orElse(0))
        .as("the busy thread used most of a core")
        .isGreaterThan(0.5);
  }

  /** Keeps one thread busy for 400 ms; the result keeps the JIT from removing the loop. */
  private static long spinFor400Millis() {
    long end = System.nanoTime() + 400_000_000L;
    long x = 0;
    while (System.nanoTime() < end) {
      x += Long.numberOfTrailingZeros(x + System.nanoTime());
    }
    return x;
  }
}
