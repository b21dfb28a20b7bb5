package dev.tally.cli;

import dev.tally.avro.PersonState;
import dev.tally.jobs.TallyTopology;
import dev.tally.operators.json.Json;
import dev.tally.savepoints.SavepointInspection;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description = {
      "Show what a savepoint holds:",
      "every operator (uid, parallelism, state size), how many persons and dedup keys it carries, or with --person one person. Reads the RocksDB state locally with Flink's State Processor API; the cluster is not involved."
    })
public final class InspectCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "SAVEPOINT", description = "savepoint directory or URI")
  String savepoint;

  @Option(
      names = "--person",
      paramLabel = "PROJECT:DISTINCT_ID",
      description = "print the person this distinct_id belongs to")
  String person;

  @Option(names = "--no-counts", description = "metadata only (skip counting persons and keys)")
  boolean noCounts;

  @Override
  public Integer call() throws Exception {
    SavepointInspection.Metadata m;
    try {
      m = SavepointInspection.metadata(savepoint);
    } catch (SavepointInspection.NotASavepoint e) {
      throw new UserFacingErrors.UsageError(e.getMessage());
    }
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(1);
    if (person != null) {
      int colon = person.indexOf(':');
      if (colon < 1 || colon == person.length() - 1) {
        throw new UserFacingErrors.UsageError("--person must be PROJECT:DISTINCT_ID");
      }
      requireOperator(m, TallyTopology.Uids.ENRICH);
      List<Tuple2<String, PersonState>> found =
          SavepointInspection.person(
              env,
              m.path(),
              TallyTopology.Uids.ENRICH,
              person.substring(0, colon),
              person.substring(colon + 1));
      if (found.isEmpty()) {
        System.out.println("no person with distinct_id " + person + " in " + savepoint);
        return 1;
      }
      PersonState p = found.get(0).f1;
      System.out.println("project       " + found.get(0).f0);
      System.out.println("person_id     " + p.getPersonId());
      System.out.println("distinct_ids  " + Json.write(List.copyOf(p.getDistinctIds())));
      System.out.println("properties    " + p.getProperties());
      System.out.println("is_identified " + p.getIsIdentified());
      return 0;
    }
    System.out.printf("savepoint %s (checkpoint %d)%n", m.path(), m.checkpointId());
    System.out.printf(
        "  %-26s %-45s %11s %8s %14s%n", "uid", "name", "parallelism", "max", "state bytes");
    for (SavepointInspection.OperatorEntry o : m.operators()) {
      System.out.printf(
          "  %-26s %-45s %11d %8d %,14d%n",
          o.uid().isEmpty() ? "(no uid: " + o.operatorId().substring(0, 8) + ")" : o.uid(),
          o.name().length() > 45 ? o.name().substring(0, 44) + "…" : o.name(),
          o.parallelism(),
          o.maxParallelism(),
          o.bytes());
    }
    System.out.printf("  total state %,d bytes%n", m.totalBytes());
    if (!noCounts) {
      if (m.has(TallyTopology.Uids.ENRICH)) {
        System.out.printf(
            "persons     %,d%n",
            SavepointInspection.countPersons(env, m.path(), TallyTopology.Uids.ENRICH));
      }
      if (m.has(TallyTopology.Uids.DEDUP)) {
        System.out.printf(
            "dedup keys  %,d%n",
            SavepointInspection.countDedupKeys(env, m.path(), TallyTopology.Uids.DEDUP));
      }
    }
    return 0;
  }

  private static void requireOperator(SavepointInspection.Metadata m, String uid) {
    if (!m.has(uid)) {
      throw new UserFacingErrors.UsageError(
          "the savepoint has no state for operator " + uid + " (not a Tally ingestion savepoint?)");
    }
  }
}
