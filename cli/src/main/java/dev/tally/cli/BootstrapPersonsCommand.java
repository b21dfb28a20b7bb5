package dev.tally.cli;

import dev.tally.jobs.TallyTopology;
import dev.tally.savepoints.PersonRows;
import dev.tally.savepoints.PersonTables;
import dev.tally.savepoints.PersonsSavepoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "bootstrap-persons",
    mixinStandardHelpOptions = true,
    description = {
      "Write person state from an existing persons table into a new savepoint that the ingestion job starts from (deploy --from-savepoint).",
      "Columns: project, person_id (empty: derived from the first distinct_id), distinct_ids (JSON array), properties (JSON object), is_identified. Invalid rows and distinct_ids claimed by two persons are rejected and reported; with any rejection the exit code is 1 (the savepoint holds the valid persons)."
    })
public final class BootstrapPersonsCommand implements Callable<Integer> {
  static final class Input {
    @Option(
        names = "--csv",
        paramLabel = "FILE",
        required = true,
        description = "CSV file with the header " + PersonRows.CSV_HEADER)
    Path csv;

    @ArgGroup(exclusive = false)
    Jdbc jdbc;
  }

  static final class Jdbc {
    @Option(names = "--jdbc-url", required = true, paramLabel = "URL", description = "JDBC URL")
    String url;

    @Option(names = "--table", required = true, paramLabel = "T", description = "persons table")
    String table;

    @Option(names = "--user", paramLabel = "U", description = "database user")
    String user;

    @Option(
        names = "--password-file",
        paramLabel = "FILE",
        description = "file holding the password (never on the command line)")
    Path passwordFile;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  Input input;

  @Option(
      names = "--out",
      required = true,
      paramLabel = "SAVEPOINT",
      description = "directory of the new savepoint (must not exist)")
  Path out;

  @Option(
      names = "--max-parallelism",
      defaultValue = "128",
      paramLabel = "N",
      description = "max parallelism of the job that will start from it (default ${DEFAULT-VALUE})")
  int maxParallelism;

  @Override
  public Integer call() throws Exception {
    if (Files.exists(out)) {
      throw new UserFacingErrors.UsageError(out + " already exists: choose a new directory");
    }
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    DataStream<PersonRows.Row> rows;
    if (input.csv != null) {
      if (!Files.isRegularFile(input.csv)) {
        throw new UserFacingErrors.UsageError("no such file: " + input.csv);
      }
      String first;
      try (var lines = Files.lines(input.csv)) {
        first = lines.findFirst().orElse("");
      }
      if (!first.strip().equals(PersonRows.CSV_HEADER)) {
        throw new UserFacingErrors.UsageError(
            input.csv + " must start with the header: " + PersonRows.CSV_HEADER);
      }
      rows = PersonTables.csv(env, input.csv.toAbsolutePath());
    } else {
      if (!PersonTables.isTableName(input.jdbc.table)) {
        throw new UserFacingErrors.UsageError("--table: not a table name: " + input.jdbc.table);
      }
      String password =
          input.jdbc.passwordFile == null
              ? null
              : Files.readString(input.jdbc.passwordFile).strip();
      rows = PersonTables.jdbc(env, input.jdbc.url, input.jdbc.table, input.jdbc.user, password);
    }
    String target = out.toAbsolutePath().toUri().toString();
    PersonsSavepoint.bootstrap(env, rows, TallyTopology.Uids.ENRICH, maxParallelism, target);
    System.out.println("reading persons and writing " + target + " …");
    JobExecutionResult result = env.execute("tally bootstrap-persons");
    PersonsSavepoint.Counts c = PersonsSavepoint.counts(result);
    System.out.printf(
        "rows read %,d · persons written %,d · rejected %,d%n",
        c.rows(), c.written(), c.rejected());
    for (String reason : c.reasons()) {
      System.out.println("  rejected: " + reason);
    }
    System.out.println("savepoint: " + target);
    System.out.println(
        "start the job from it: ./tally deploy --generation G --from-savepoint " + target);
    return c.rejected() == 0 ? 0 : 1;
  }
}
