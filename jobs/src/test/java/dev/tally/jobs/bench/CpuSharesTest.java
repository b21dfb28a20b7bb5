package dev.tally.jobs.bench;

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
    long end = System.nanoTime() + 400_000_000L;
    long x = 0;
    while (System.nanoTime() < end) {
      x += Long.numberOfTrailingZeros(x + System.nanoTime());
    }
    CpuShares.Snapshot after = CpuShares.take();
    Map<String, Double> shares = CpuShares.between(before, after);
    assertThat(x).isNotNegative();
    double cores = Runtime.getRuntime().availableProcessors();
    assertThat(shares.get("tally CLI (traffic, bench)"))
        .as("one busy thread is about 1/%s of the machine", cores)
        .isBetween(0.5 / cores, 1.0);
    assertThat(Bench.cpuShares(shares)).contains("tally CLI (traffic, bench)").contains("idle");
  }
}
