package dev.tally.cli;

import dev.tally.cli.demo.Topics;
import dev.tally.savepoints.FlinkRest;
import dev.tally.savepoints.HttpFlinkRest;
import dev.tally.savepoints.audit.Audit;
import dev.tally.savepoints.audit.Stalls;
import dev.tally.sinks.postgres.CommittedRows;
import dev.tally.sinks.postgres.GenerationRegistry;
import dev.tally.sinks.postgres.TransactionIds;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "audit",
    mixinStandardHelpOptions = true,
    description = {
      "Check that every record of a generation is accounted for: ledger rows balance, consumed",
      "equals the records in Kafka within the committed offsets, aggregated equals the minute",
      "counts, the enriched and dead-letter topics hold exactly what the ledger says, and no",
      "prepared transaction is left behind; for a live generation (the active one, or one whose",
      "job runs) also that it committed recently and no record waits beyond its committed offsets",
      "(a stall: a revoked grant, a job that keeps restarting). Exit 0 when all hold, 1 naming",
      "each violation."
    })
public final class AuditCommand implements Callable<Integer> {
  @Mixin StackOptions stackOptions;

  @Option(
      names = "--generation",
      paramLabel = "G",
      description = "generation to audit (default: the active one)")
  String generation;

  @Option(names = "--json", description = "print one JSON object instead of a table")
  boolean json;

  @Option(
      names = "--max-prepared-age",
      paramLabel = "DURATION",
      converter = Durations.class,
      defaultValue = "30s",
      description =
          "prepared PostgreSQL transactions and open Kafka transactions of Tally's sinks older than this are a violation (default ${DEFAULT-VALUE}; use 2 × checkpoint interval + the longest checkpoint)")
  Duration maxPreparedAge;

  @Mixin DatabaseOptions database;

  @Option(
      names = "--user",
      paramLabel = "USER",
      defaultValue = "tally_audit",
      description =
          "login for --jdbc-url, a member of the read-only role tally_auditor (default ${DEFAULT-VALUE})")
  String user;

  @Option(
      names = "--bootstrap-servers",
      paramLabel = "HOSTS",
      description = "Kafka to audit against (default: the local stack's)")
  String bootstrapServers;

  @Option(
      names = "--stall-after",
      paramLabel = "DURATION",
      converter = Durations.class,
      defaultValue = "30s",
      description =
          "a live generation that has not committed for this long, or a record waiting beyond its committed offsets this long, is a violation (default ${DEFAULT-VALUE}; at least 3 × checkpoint interval)")
  Duration stallAfter;

  @Option(
      names = "--flink-url",
      paramLabel = "URL",
      description =
          "Flink REST address, to name the job's state and last exception (default: the local stack's, if it runs)")
  String flinkUrl;

  @Option(names = "--raw-topic", defaultValue = Topics.RAW, paramLabel = "T")
  String rawTopic;

  @Option(names = "--enriched-topic", defaultValue = Topics.ENRICHED, paramLabel = "T")
  String enrichedTopic;

  @Option(names = "--dead-letter-topic", defaultValue = Topics.DEAD_LETTER, paramLabel = "T")
  String deadLetterTopic;

  private Connection connect() throws Exception {
    if (!database.given()) {
      return stackOptions.existingStack().auditor(); // least privilege: reads, writes nothing
    }
    return database.connect(user);
  }

  @Override
  public Integer call() throws Exception {
    String bootstrap =
        bootstrapServers != null
            ? bootstrapServers
            : stackOptions.existingLayout().kafkaBootstrap();
    try (Connection db = connect()) {
      String g = generation != null ? generation : activeGeneration(db);
      TransactionIds.validateName("generation", g);
      Audit.Report report =
          Audit.run(
              db,
              new Audit.Target(
                  g, bootstrap, rawTopic, enrichedTopic, deadLetterTopic, maxPreparedAge),
              3,
              Duration.ofSeconds(2));
      Stalls.JobHealth health = health(g);
      if (g.equals(GenerationRegistry.active(db))
          || (health != null
              && health.jobId() != null
              && !health.state().isGloballyTerminalState())) {
        List<Audit.Check> checks = new ArrayList<>(report.checks());
        checks.addAll(Stalls.checks(db, g, bootstrap, rawTopic, stallAfter, health, Instant.now()));
        report = new Audit.Report(report.generation(), report.at(), checks, report.warnings());
      }
      if (json) {
        System.out.println(Audit.toJson(report));
      } else {
        System.out.println("audit of generation " + g + " at " + report.at());
        for (Audit.Check c : report.checks()) {
          System.out.printf(
              "  %s %-75s %s%n",
              c.ok() ? "ok  " : "FAIL",
              c.name(),
              c.ok() ? c.actual() : "expected " + c.expected() + ", found " + c.actual());
        }
        for (CommittedRows.Warning w : report.warnings()) {
          System.out.println("  warn " + w);
        }
        System.out.println(report.ok() ? "all checks hold" : "VIOLATIONS: see FAIL lines above");
      }
      return report.ok() ? 0 : 1;
    }
  }

  /** The newest job of the generation on the cluster, or null when there is none or no cluster. */
  private Stalls.JobHealth health(String g) {
    try {
      String url = flinkUrl;
      if (url == null) {
        var layout = stackOptions.existingLayout();
        url = layout.flinkRestUrl();
      }
      FlinkRest flink = new HttpFlinkRest(url, Duration.ofSeconds(5));
      FlinkRest.JobSummary newest = null;
      for (FlinkRest.JobSummary j : flink.jobs()) {
        if (j.name().equals("tally-ingestion-" + g)
            && (newest == null || j.startTime() > newest.startTime())) {
          newest = j;
        }
      }
      return newest == null
          ? new Stalls.JobHealth(null, null, null) // the cluster answers: no such job
          : new Stalls.JobHealth(newest.id(), newest.state(), flink.rootException(newest.id()));
    } catch (Exception noCluster) {
      return null; // an external database without a reachable cluster: the SQL checks still run
    }
  }

  private static String activeGeneration(Connection db) throws Exception {
    String active = GenerationRegistry.active(db);
    if (active == null) {
      throw new UserFacingErrors.UsageError("no active generation: pass --generation");
    }
    return active;
  }
}
