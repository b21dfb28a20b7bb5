package dev.tally.jobs.cli;

import dev.tally.jobs.audit.Audit;
import dev.tally.jobs.demo.Topics;
import dev.tally.sinks.postgres.TransactionIds;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
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
          "prepared PostgreSQL transactions and open Kafka transactions of Tally's sinks older than this are a violation (default ${DEFAULT-VALUE}; use 2 × checkpoint interval + the longest checkpoint)")
  Duration maxPreparedAge;

  @Option(
      names = "--jdbc-url",
      paramLabel = "URL",
      description = "audit this database instead of the local stack's (read access to tally.*)")
  String jdbcUrl;

  @Option(
      names = "--user",
      paramLabel = "USER",
      defaultValue = "postgres",
      description = "login for --jdbc-url (default ${DEFAULT-VALUE})")
  String user;

  @Option(
      names = "--password-file",
      paramLabel = "FILE",
      description =
          "file with the password for --jdbc-url (default: environment variable TALLY_PG_PASSWORD)")
  Path passwordFile;

  @Option(
      names = "--bootstrap-servers",
      paramLabel = "HOSTS",
      description = "Kafka to audit against (default: the local stack's)")
  String bootstrapServers;

  @Option(names = "--raw-topic", defaultValue = Topics.RAW, paramLabel = "T")
  String rawTopic;

  @Option(names = "--enriched-topic", defaultValue = Topics.ENRICHED, paramLabel = "T")
  String enrichedTopic;

  @Option(names = "--dead-letter-topic", defaultValue = Topics.DEAD_LETTER, paramLabel = "T")
  String deadLetterTopic;

  private Connection connect() throws Exception {
    if (jdbcUrl == null) {
      return stackOptions.existingStack().admin();
    }
    String password =
        passwordFile != null
            ? Files.readString(passwordFile).strip()
            : System.getenv().getOrDefault("TALLY_PG_PASSWORD", "");
    return DriverManager.getConnection(jdbcUrl, user, password);
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
        for (Audit.Warning w : report.warnings()) {
          System.out.println("  warn " + w);
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
