package dev.tally.cli.drill;

import java.util.Arrays;
import java.util.List;

/** The faults {@code ./tally drill} can inject on the local stack. */
public enum Fault {
  TASKMANAGER_KILL("taskmanager-kill", "kill -9 the TaskManager, start a new one"),
  JOBMANAGER_KILL(
      "jobmanager-kill",
      "kill -9 the JobManager, start a new one, resume the job from its last checkpoint"),
  KAFKA_RESTART("kafka-restart", "stop the Kafka broker, wait 5 s, start it again"),
  POSTGRES_RESTART("postgres-restart", "stop PostgreSQL (fast), wait 5 s, start it again"),
  CHECKPOINT_FAILURE(
      "checkpoint-failure", "freeze the TaskManager (SIGSTOP) past the checkpoint timeout"),
  CRASH_AFTER_PREPARE(
      "crash-after-prepare", "kill -9 the TaskManager while a PREPAREd transaction awaits COMMIT"),
  UPGRADE_IN_PLACE(
      "upgrade-in-place",
      "upgrade the running generation in place: savepoint, check, stop-with-savepoint, start the"
          + " job jar from it"),
  UPGRADE_BLUE_GREEN(
      "upgrade-blue-green",
      "start green from blue's savepoint (taken while blue runs) as a new generation, flip when"
          + " it caught up and its audit is clean, stop blue with a savepoint"),
  UPGRADE_BLUE_GREEN_ABORT(
      "upgrade-blue-green-abort",
      "start a green that fails (its PostgreSQL password file is missing): the upgrade aborts,"
          + " blue stays active"),
  HOSTILE_INPUT(
      "hostile-input",
      "send hostile events while traffic flows (U+0000, 4 and 60 kB values, SQL text, deep nesting,"
          + " a person grown past its bound): the job stays RUNNING and checkpoints go on"),
  WRITER_REVOKED(
      "writer-revoked",
      "revoke the writer's INSERT grant until the audit's stall check fails (at most 60 s), then"
          + " grant it back: every record still arrives once"),
  BACKFILL(
      "backfill",
      "after the run, recount it as a bounded backfill generation, audit it and flip it in");

  public final String cliName;
  public final String description;

  Fault(String cliName, String description) {
    this.cliName = cliName;
    this.description = description;
  }

  /** Parses a --fault value; {@code all} means every fault, one after another. */
  /** One fault, a comma-separated list of them (run in the order of {@link #values()}), or all. */
  public static List<Fault> parse(String value) {
    if ("all".equals(value)) {
      return List.of(values());
    }
    if (value.contains(",")) {
      java.util.Set<Fault> chosen = java.util.EnumSet.noneOf(Fault.class);
      for (String one : value.split(",")) {
        chosen.addAll(parse(one.strip()));
      }
      return List.copyOf(chosen);
    }
    return Arrays.stream(values())
        .filter(f -> f.cliName.equals(value))
        .findFirst()
        .map(List::of)
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "unknown fault '"
                        + value
                        + "'; choose one of "
                        + String.join(", ", Arrays.stream(values()).map(f -> f.cliName).toList())
                        + ", all"));
  }
}
