package dev.tally.jobs.cli;

import dev.tally.jobs.audit.Audit;
import dev.tally.jobs.demo.Topics;
import dev.tally.jobs.stack.LocalStack;
import dev.tally.sinks.postgres.TransactionIds;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
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
      "prepared transaction is left behind. Exit 0 when all hold, 1 naming each violation."
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
          "prepared transactions older than this are a violation (default ${DEFAULT-VALUE}; use 2 × checkpoint interval)")
  Duration maxPreparedAge;

  @Override
  public Integer call() throws Exception {
    LocalStack stack = stackOptions.existingStack();
    try (Connection db = stack.admin()) {
      String g = generation != null ? generation : activeGeneration(db);
      TransactionIds.validateName("generation", g);
      Audit.Report report =
          Audit.run(
              db,
              new Audit.Target(
                  g,
                  stack.layout().kafkaBootstrap(),
                  Topics.RAW,
                  Topics.ENRICHED,
                  Topics.DEAD_LETTER,
                  maxPreparedAge),
              3,
              Duration.ofSeconds(2));
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
        System.out.println(report.ok() ? "all checks hold" : "VIOLATIONS: see FAIL lines above");
      }
      return report.ok() ? 0 : 1;
    }
  }

  private static String activeGeneration(Connection db) throws Exception {
    try (Statement s = db.createStatement();
        ResultSet rs = s.executeQuery("SELECT generation FROM tally.active_generation")) {
      if (!rs.next()) {
        throw new UserFacingErrors.UsageError("no active generation: pass --generation");
      }
      return rs.getString(1);
    }
  }
}
