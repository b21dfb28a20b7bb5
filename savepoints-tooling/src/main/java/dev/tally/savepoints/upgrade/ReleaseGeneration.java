package dev.tally.savepoints.upgrade;

import dev.tally.savepoints.FlinkRest;
import dev.tally.sinks.kafka.OpenTransactions;
import dev.tally.sinks.postgres.AbandonedTransactions;
import java.sql.Connection;
import java.util.List;

/**
 * Releases what an abandoned generation still holds — its open Kafka transactions (which block
 * every {@code read_committed} reader of the topic) and its PostgreSQL prepared transactions (which
 * hold row locks and VACUUM back) — so that nothing it left behind can stall or fool anyone. Run by
 * {@code ./tally release}, {@code cancel}, the demo's Ctrl-C, {@code stack down}, an aborted green
 * and {@code rollback}. Refused while a job of the generation runs (it would be fenced).
 */
public final class ReleaseGeneration {
  private ReleaseGeneration() {}

  public record Released(List<String> kafkaTransactions, List<String> preparedTransactions) {
    @Override
    public String toString() {
      return kafkaTransactions.size()
          + " open Kafka transaction(s) aborted, "
          + preparedTransactions.size()
          + " prepared PostgreSQL transaction(s) rolled back";
    }
  }

  /** The job of {@code generation} that runs on the cluster, or null. */
  public static String runningJob(FlinkRest flink, String generation) throws Exception {
    for (FlinkRest.JobSummary j : flink.jobs()) {
      if (j.name().equals("tally-ingestion-" + generation)
          && !j.state().isGloballyTerminalState()) {
        return j.id();
      }
    }
    return null;
  }

  /**
   * Releases {@code generation}; the caller has made sure none of its jobs runs (see {@link
   * #runningJob}).
   */
  public static Released release(Connection admin, String bootstrapServers, String generation)
      throws Exception {
    List<String> kafka = OpenTransactions.abort(bootstrapServers, generation);
    List<String> prepared = AbandonedTransactions.rollBack(admin, generation);
    return new Released(kafka, prepared);
  }
}
