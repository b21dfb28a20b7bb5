package dev.tally.savepoints.upgrade;

import dev.tally.jobs.IngestionJob;
import dev.tally.jobs.JobArgs;
import dev.tally.jobs.TallyTopology;
import dev.tally.savepoints.RestoreCheck;
import dev.tally.savepoints.SavepointInspection;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.jar.JarFile;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.OperatorIDPair;
import org.apache.flink.runtime.jobgraph.JobVertex;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * {@code tally check}: the pre-flight before any upgrade. (1) The new jar builds the job (with the
 * deployment's own program arguments, so its start-up checks run too). (2) Every operator state in
 * the savepoint maps to an operator of the new job — a removed or renamed uid would orphan state
 * (Flink refuses the restore, or drops the state with allowNonRestoredState). (3) The long-lived
 * person state restores with the new jar's serializers ({@link RestoreCheck}, in a JVM with the new
 * jar first on its classpath): Avro evolution passes, an incompatible change is refused.
 */
public final class UpgradeCheck {
  private UpgradeCheck() {}

  /**
   * The problems that make the upgrade unsafe; empty when it may proceed. Everything that touches
   * the new job's classes runs in a JVM with {@code jar} first on its classpath (this class's
   * {@link #main}), so it is the new release's topology and serializers that are checked.
   */
  public static List<String> problems(String savepoint, Path jar, List<String> programArgs)
      throws Exception {
    SavepointInspection.Metadata m = SavepointInspection.metadata(savepoint);
    if (!Files.isRegularFile(jar)) {
      throw new IOException("no such jar: " + jar);
    }
    try (JarFile j = new JarFile(jar.toFile())) {
      if (j.getEntry(IngestionJob.class.getName().replace('.', '/') + ".class") == null) {
        throw new IOException(jar + " does not contain the Tally ingestion job");
      }
    }
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.addAll(
        List.of(
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED"));
    command.add("-cp");
    command.add(jar.toAbsolutePath() + File.pathSeparator + System.getProperty("java.class.path"));
    command.add(UpgradeCheck.class.getName());
    command.add(m.path());
    command.addAll(programArgs);
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int exit = p.waitFor();
    List<String> problems = new ArrayList<>();
    output.lines().filter(l -> l.startsWith("PROBLEM ")).forEach(l -> problems.add(l.substring(8)));
    if (exit != 0 && problems.isEmpty()) {
      problems.add(
          "the check did not run: " + output.lines().reduce((a, b) -> b).orElse("exit " + exit));
    }
    return problems;
  }

  private static final String RETIRED_DEDUP_ID =
      org.apache.flink.state.api.OperatorIdentifier.forUid(TallyTopology.Uids.RETIRED_DEDUP)
          .getOperatorId()
          .toHexString();

  /** The checking JVM: {@code SAVEPOINT PROGRAM-ARGS…}; prints PROBLEM lines, exit 1 if any. */
  public static void main(String[] args) throws Exception {
    List<String> problems = new ArrayList<>();
    SavepointInspection.Metadata m = SavepointInspection.metadata(args[0]);
    Configuration config = JobArgs.parse(List.of(args).subList(1, args.length)).toConfiguration();
    Set<String> operatorIds = new HashSet<>();
    try {
      IngestionJob.checkKafkaTransactions(config);
      StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
      IngestionJob.build(env, config);
      for (JobVertex v : env.getStreamGraph().getJobGraph().getVertices()) {
        for (OperatorIDPair ids : v.getOperatorIDs()) {
          operatorIds.add(ids.getGeneratedOperatorID().toHexString());
          ids.getUserDefinedOperatorID().ifPresent(id -> operatorIds.add(id.toHexString()));
        }
      }
    } catch (Exception e) {
      problems.add("the new jar does not build the job: " + RestoreCheck.rootMessage(e));
    }
    if (problems.isEmpty()) {
      for (SavepointInspection.OperatorEntry o : m.operators()) {
        if (o.bytes() > 0
            && !operatorIds.contains(o.operatorId())
            && (TallyTopology.Uids.RETIRED_DEDUP.equals(o.uid())
                || RETIRED_DEDUP_ID.equals(o.operatorId()))) {
          problems.add(
              "the savepoint keeps dedup state by project (operator "
                  + TallyTopology.Uids.RETIRED_DEDUP
                  + "), the layout before dedup by (project, uuid); it cannot be restored in"
                  + " place: start the new version as a new generation that reads the raw topic"
                  + " from its retention start, with `tally backfill --replace`"
                  + " (docs/scale-out.md §8, docs/backfill.md)");
        } else if (o.bytes() > 0 && !operatorIds.contains(o.operatorId())) {
          problems.add(
              String.format(
                  "state of operator %s (%,d bytes) has no operator in the new job: a uid was"
                      + " removed or renamed",
                  o.uid().isEmpty() ? o.operatorId() : o.uid(), o.bytes()));
        }
      }
      problems.addAll(RestoreCheck.problems(m.path(), TallyTopology.Uids.ENRICH));
    }
    problems.forEach(p -> System.out.println("PROBLEM " + p));
    System.exit(problems.isEmpty() ? 0 : 1);
  }
}
