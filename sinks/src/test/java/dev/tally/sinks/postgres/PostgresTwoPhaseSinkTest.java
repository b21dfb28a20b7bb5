package dev.tally.sinks.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.operators.model.TallyRow;
import dev.tally.sinks.PostgresForTests;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.OptionalLong;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The two-phase-commit protocol of the sink against a real PostgreSQL, step by step. */
class PostgresTwoPhaseSinkTest {
  static PostgresForTests db;
  @TempDir static Path tmp;
  private PostgresTwoPhaseSink.Options options;

  @BeforeAll
  static void startPostgres() throws Exception {
    db = PostgresForTests.start();
  }

  @AfterAll
  static void stopPostgres() throws Exception {
    db.close();
  }

  @BeforeEach
  void clean() throws Exception {
    db.truncate();
    options =
        new PostgresTwoPhaseSink.Options(
            db.writerConfig(tmp.resolve("pw")),
            "g1",
            "aggregates",
            new PostgresTwoPhaseSink.GenerationSettings(10_000, 300_000, List.of()),
            Duration.ofSeconds(2));
  }

  private PostgresTwoPhaseWriter writer(int subtask, int parallelism, OptionalLong restored)
      throws Exception {
    return new PostgresTwoPhaseWriter(
        options,
        subtask,
        parallelism,
        restored,
        UnregisteredMetricsGroup.createSinkWriterMetricGroup());
  }

  private static TallyRow minuteRow(String event, long events, long revision) {
    TallyRow r = TallyRow.eventCount("acme", TallyRow.MINUTE, 1_795_435_200_000L, event);
    r.events = events;
    r.persons = 1;
    r.revision = revision;
    return r;
  }

  private long visibleEvents(String event) throws Exception {
    try (Connection c = db.admin();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT coalesce(max(events), -1) FROM (SELECT DISTINCT ON (event) events FROM tally.event_counts"
                    + " WHERE event = '"
                    + event
                    + "' ORDER BY event, revision DESC) x")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void shouldMakeRowsVisibleOnlyAfterCommitPrepared() throws Exception {
    try (PostgresTwoPhaseWriter w = writer(0, 1, OptionalLong.empty());
        PostgresCommitter committer = new PostgresCommitter(options, 0)) {
      w.write(minuteRow("signup", 3, 3), null);
      w.writeWatermark(new Watermark(1_795_435_260_000L));
      Collection<PostgresCommittable> prepared = w.prepareCommit();
      w.snapshotState(1);

      assertThat(prepared).hasSize(1);
      assertThat(db.preparedTransactions()).containsExactly("tally_g1_aggregates_0_1");
      assertThat(visibleEvents("signup")).isEqualTo(-1);

      TestRequests requests = new TestRequests(prepared);
      committer.commit(requests.all);

      assertThat(visibleEvents("signup")).isEqualTo(3);
      assertThat(db.preparedTransactions()).isEmpty();
      assertThat(db.queryLong("SELECT watermark_ms FROM tally.sink_commits"))
          .isEqualTo(1_795_435_260_000L);
      assertThat(requests.alreadyCommitted).isZero();
    }
  }

  @Test
  void shouldNotWaitOnRowsLockedByThePreviousPreparedTransaction() throws Exception {
    try (PostgresTwoPhaseWriter w = writer(0, 1, OptionalLong.empty());
        PostgresCommitter committer = new PostgresCommitter(options, 0)) {
      w.write(minuteRow("signup", 1, 1), null);
      Collection<PostgresCommittable> first = w.prepareCommit();
      w.snapshotState(1);
      // checkpoint 1 is not complete yet: its transaction holds its locks
      w.write(minuteRow("signup", 2, 2), null);
      long started = System.nanoTime();
      Collection<PostgresCommittable> second = w.prepareCommit(); // lock_timeout is 2 s
      w.snapshotState(2);
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(2));

      committer.commit(new TestRequests(first).all);
      committer.commit(new TestRequests(second).all);
      assertThat(visibleEvents("signup")).isEqualTo(2);
      assertThat(db.preparedTransactions()).isEmpty();
    }
  }

  @Test
  void shouldCommitADeclinedCheckpointsTransactionWithTheNextCompletedOne() throws Exception {
    try (PostgresTwoPhaseWriter w = writer(0, 1, OptionalLong.empty());
        PostgresCommitter committer = new PostgresCommitter(options, 0)) {
      w.write(minuteRow("signup", 1, 1), null);
      Collection<PostgresCommittable> declined = w.prepareCommit();
      // checkpoint 1 is declined before this writer's snapshotState runs
      w.write(minuteRow("signup", 2, 2), null);
      Collection<PostgresCommittable> next = w.prepareCommit();
      w.snapshotState(2);

      assertThat(db.preparedTransactions())
          .containsExactly("tally_g1_aggregates_0_1", "tally_g1_aggregates_0_2");
      // Flink hands the committer every pending committable up to the completed checkpoint
      List<PostgresCommittable> both = new ArrayList<>(declined);
      both.addAll(next);
      committer.commit(new TestRequests(both).all);
      assertThat(visibleEvents("signup")).isEqualTo(2);
      assertThat(db.preparedTransactions()).isEmpty();
    }
  }

  @Test
  void shouldCompactSupersededRevisionsButKeepTheNewest() throws Exception {
    try (PostgresTwoPhaseWriter w = writer(0, 1, OptionalLong.empty());
        PostgresCommitter committer = new PostgresCommitter(options, 0)) {
      for (int i = 1; i <= 25; i++) {
        w.write(minuteRow("signup", i, i), null);
        Collection<PostgresCommittable> prepared = w.prepareCommit();
        w.snapshotState(i);
        committer.commit(new TestRequests(prepared).all);
      }
    }
    // a compaction started after commit 20 (on its own thread; closing the committer let it
    // finish): revisions 1..19 are gone, the newest remains (20..24 may be gone too)
    assertSupersededUpTo19GoneAndNewestKept();
  }

  @Test
  void shouldCompactWithoutHoldingUpTheSinksTaskThread() throws Exception {
    try (PostgresTwoPhaseWriter w = writer(0, 1, OptionalLong.empty());
        PostgresCommitter committer = new PostgresCommitter(options, 0)) {
      Duration slowest = Duration.ZERO;
      try (Connection locker = db.admin()) {
        for (int i = 1; i <= 25; i++) {
          w.write(minuteRow("signup", i, i), null);
          Collection<PostgresCommittable> prepared = w.prepareCommit();
          w.snapshotState(i);
          if (i == 20) {
            // a reader holds the superseded first revision: the compaction's delete must wait
            locker.setAutoCommit(false);
            try (Statement s = locker.createStatement()) {
              s.execute("SELECT * FROM tally.event_counts WHERE revision = 1 FOR UPDATE");
            }
          }
          long started = System.nanoTime();
          committer.commit(new TestRequests(prepared).all);
          Duration took = Duration.ofNanos(System.nanoTime() - started);
          slowest = took.compareTo(slowest) > 0 ? took : slowest;
        }
        // the commits went on while the delete waited (lock timeout 2 s)
        assertThat(slowest).isLessThan(Duration.ofSeconds(1));
        locker.rollback();
      }
    }
    // closing the committer let the waiting compaction finish
    assertSupersededUpTo19GoneAndNewestKept();
  }

  private void assertSupersededUpTo19GoneAndNewestKept() throws Exception {
    assertThat(
            db.queryLong(
                "SELECT count(*) FROM tally.event_counts WHERE event = 'signup' AND revision < 20"))
        .isZero();
    assertThat(db.queryLong("SELECT max(revision) FROM tally.event_counts WHERE event = 'signup'"))
        .isEqualTo(25);
    assertThat(visibleEvents("signup")).isEqualTo(25);
  }

  @Test
  void shouldRecordEachRowsTransactionAndKeepSupersededRevisionsWhileCompactionIsHeld()
      throws Exception {
    try (Connection c = db.admin();
        Statement s = c.createStatement()) {
      s.execute("INSERT INTO tally.compaction_holds (generation, reason) VALUES ('g1', 'test')");
    }
    List<PostgresWriterState> states = new ArrayList<>();
    try (PostgresTwoPhaseWriter w = writer(0, 1, OptionalLong.empty());
        PostgresCommitter committer = new PostgresCommitter(options, 0)) {
      w.write(minuteRow("signup", 1, 1), null);
      Collection<PostgresCommittable> declined = w.prepareCommit(); // checkpoint 1 declined
      for (int i = 2; i <= 25; i++) {
        w.write(minuteRow("signup", i, i), null);
        Collection<PostgresCommittable> prepared = w.prepareCommit();
        states.addAll(w.snapshotState(i + 10)); // checkpoint ids run ahead of the numbers
        List<PostgresCommittable> all = new ArrayList<>(prepared);
        if (i == 2) {
          all.addAll(declined);
        }
        committer.commit(new TestRequests(all).all);
      }
    }
    // no compaction while held: all 25 revisions remain
    assertThat(db.queryLong("SELECT count(*) FROM tally.event_counts WHERE event = 'signup'"))
        .isEqualTo(25);
    // every row names the transaction that committed it
    assertThat(
            db.queryLong(
                "SELECT count(*) FROM tally.event_counts e JOIN tally.sink_commits c"
                    + " ON c.generation = e.generation AND c.subtask = e.sink_subtask"
                    + " AND c.checkpoint = e.sink_checkpoint"))
        .isEqualTo(25);
    // the writer state names the transaction it prepared for that checkpoint
    PostgresWriterState last = states.get(states.size() - 1);
    assertThat(last.checkpoint()).isEqualTo(35);
    assertThat(
            db.queryLong(
                "SELECT revision FROM tally.event_counts WHERE sink_checkpoint = "
                    + last.preparedTransaction()))
        .isEqualTo(25);
    PostgresWriterState.Serializer serializer = new PostgresWriterState.Serializer();
    assertThat(serializer.deserialize(serializer.getVersion(), serializer.serialize(last)))
        .isEqualTo(last);

    try (Connection c = db.admin();
        Statement s = c.createStatement()) {
      s.execute("DELETE FROM tally.compaction_holds");
    }
    try (PostgresTwoPhaseWriter w = writer(0, 1, OptionalLong.of(35));
        PostgresCommitter committer = new PostgresCommitter(options, 0)) {
      for (int i = 26; i <= 45; i++) {
        w.write(minuteRow("signup", i, i), null);
        Collection<PostgresCommittable> prepared = w.prepareCommit();
        w.snapshotState(i + 10);
        committer.commit(new TestRequests(prepared).all);
      }
    }
    // released: the compaction after this committer's 20th commit deleted everything but 45
    assertThat(db.queryLong("SELECT count(*) FROM tally.event_counts WHERE event = 'signup'"))
        .isEqualTo(1);
    assertThat(visibleEvents("signup")).isEqualTo(45);
  }

  @Test
  void shouldRollBackOrphanedPreparedTransactionsOnRestore() throws Exception {
    Collection<PostgresCommittable> restoredCommittables;
    try (PostgresTwoPhaseWriter w = writer(0, 1, OptionalLong.empty());
        PostgresCommitter committer = new PostgresCommitter(options, 0)) {
      w.write(minuteRow("signup", 1, 1), null);
      restoredCommittables = w.prepareCommit();
      w.snapshotState(1); // checkpoint 1 completes ...
      committer.commit(new TestRequests(restoredCommittables).all);
      w.write(minuteRow("signup", 5, 2), null);
      w.prepareCommit(); // ... checkpoint 2 prepares, then the job fails before it completes
      w.snapshotState(2);
    }
    assertThat(db.preparedTransactions()).containsExactly("tally_g1_aggregates_0_2");

    try (PostgresTwoPhaseWriter restored = writer(0, 1, OptionalLong.of(1));
        PostgresCommitter committer = new PostgresCommitter(options, 0)) {
      assertThat(db.preparedTransactions()).isEmpty();
      assertThat(visibleEvents("signup")).isEqualTo(1);
      // Flink re-commits the restored checkpoint's committables: already done, proven by the row
      TestRequests again = new TestRequests(restoredCommittables);
      committer.commit(again.all);
      assertThat(again.alreadyCommitted).isEqualTo(1);
    }
  }

  @Test
  void shouldRollBackPreparedTransactionsOfRemovedSubtasksAfterScaleDown() throws Exception {
    try (PostgresTwoPhaseWriter w1 = writer(1, 2, OptionalLong.empty())) {
      w1.write(minuteRow("pageview", 1, 1), null);
      w1.prepareCommit();
    }
    assertThat(db.preparedTransactions()).containsExactly("tally_g1_aggregates_1_1");
    try (PostgresTwoPhaseWriter w0 = writer(0, 1, OptionalLong.of(0))) {
      assertThat(db.preparedTransactions()).isEmpty();
    }
  }

  @Test
  void shouldFailLoudlyWhenAPreparedTransactionVanishedWithoutCommitting() throws Exception {
    try (PostgresCommitter committer = new PostgresCommitter(options, 0)) {
      TestRequests lost =
          new TestRequests(List.of(new PostgresCommittable("tally_g1_aggregates_0_7", 0, 7)));
      assertThatThrownBy(() -> committer.commit(lost.all))
          .hasMessageContaining("never committed")
          .hasMessageContaining("lost");
    }
  }

  @Test
  void shouldRetryACommitThatFailedTransientlyInsteadOfFailingTheJob() throws Exception {
    Collection<PostgresCommittable> prepared;
    try (PostgresTwoPhaseWriter w = writer(0, 1, OptionalLong.empty())) {
      w.write(minuteRow("signup", 3, 3), null);
      prepared = w.prepareCommit();
      w.snapshotState(1);
    }
    // the server cannot be reached (a restart, a network blip): retried later, never failed
    PostgresTwoPhaseSink.Options unreachable =
        new PostgresTwoPhaseSink.Options(
            new PostgresConnectionConfig("jdbc:postgresql://localhost:1/tally", "u", null, null),
            "g1",
            "aggregates",
            options.settings(),
            Duration.ofSeconds(2));
    try (PostgresCommitter committer = new PostgresCommitter(unreachable, 0)) {
      TestRequests requests = new TestRequests(prepared);
      requests.retriesExpected = true;
      committer.commit(requests.all);
      assertThat(requests.retries).isEqualTo(1);
    }
    assertThat(db.preparedTransactions()).containsExactly("tally_g1_aggregates_0_1");
    try (PostgresCommitter committer = new PostgresCommitter(options, 0)) {
      committer.commit(new TestRequests(prepared).all);
    }
    assertThat(visibleEvents("signup")).isEqualTo(3);
    assertThat(PostgresCommitter.backOffMillis(0)).isEqualTo(100);
    assertThat(PostgresCommitter.backOffMillis(9)).isEqualTo(2_000);
    assertThat(PostgresCommitter.isTransient(new java.sql.SQLException("denied", "42501")))
        .as("a missing grant is not transient")
        .isFalse();
  }

  @Test
  void shouldRefuseToStartWithoutStateWhenTheGenerationAlreadyCommitted() throws Exception {
    try (PostgresTwoPhaseWriter w = writer(0, 1, OptionalLong.empty());
        PostgresCommitter committer = new PostgresCommitter(options, 0)) {
      w.write(minuteRow("signup", 1, 1), null);
      committer.commit(new TestRequests(w.prepareCommit()).all);
      w.snapshotState(1);
    }
    assertThatThrownBy(() -> writer(0, 1, OptionalLong.empty()))
        .hasMessageContaining("already committed data")
        .hasMessageContaining("new generation");
  }

  @Test
  void shouldRefuseParallelismBeyondMaxPreparedTransactions() {
    assertThatThrownBy(() -> writer(0, 11, OptionalLong.empty()))
        .hasMessageContaining("max_prepared_transactions is 20");
  }

  @Test
  void shouldCountTheGenerationsRunningNowInThePreparedTransactionBudget() throws Exception {
    // blue (parallelism 6) committed a moment ago: green at 4 needs 2 × (6 + 4) = 20 — fits 20
    db.execute(
        "INSERT INTO tally.sink_commits (generation, sink_id, subtask, checkpoint, gid, parallelism,"
            + " row_count) VALUES ('blue', 'aggregates', 0, 1, 'tally_blue_aggregates_0_1', 6, 0)");
    writer(0, 4, OptionalLong.empty()).close();
    // at 5 it would not: 2 × (6 + 5) = 22, and the message names blue
    assertThatThrownBy(() -> writer(0, 5, OptionalLong.empty()))
        .hasMessageContaining("needs at least 22")
        .hasMessageContaining("blue (6)");
  }

  @Test
  void shouldRefuseToRunAGenerationWithOtherSettingsThanItsRegistration() throws Exception {
    writer(0, 1, OptionalLong.empty()).close(); // registers g1: 10 s, 5 min, no breakdowns
    options =
        new PostgresTwoPhaseSink.Options(
            options.connection(),
            "g1",
            "aggregates",
            new PostgresTwoPhaseSink.GenerationSettings(10_000, 60_000, List.of()),
            Duration.ofSeconds(2));
    assertThatThrownBy(() -> writer(0, 1, OptionalLong.empty()))
        .hasMessageContaining("generation 'g1' is registered with")
        .hasMessageContaining("allowed-lateness 300000 ms")
        .hasMessageContaining("this job runs with")
        .hasMessageContaining("allowed-lateness 60000 ms")
        .hasMessageContaining("new generation");
    assertThat(db.queryLong("SELECT allowed_lateness_ms FROM tally.generations"))
        .as("the registration is unchanged")
        .isEqualTo(300_000L);
  }

  @Test
  void shouldCommitTheLastRealWatermarkNeverEndOfInput() throws Exception {
    try (PostgresTwoPhaseWriter w = writer(0, 1, OptionalLong.empty());
        PostgresCommitter committer = new PostgresCommitter(options, 0)) {
      w.write(minuteRow("signup", 1, 1), null);
      w.writeWatermark(new Watermark(1_795_435_260_000L));
      w.writeWatermark(Watermark.MAX_WATERMARK); // a bounded backfill ends, or stop --drain
      Collection<PostgresCommittable> prepared = w.prepareCommit();
      w.snapshotState(1);
      committer.commit(new TestRequests(prepared).all);
    }
    assertThat(db.queryLong("SELECT watermark_ms FROM tally.sink_commits"))
        .isEqualTo(1_795_435_260_000L);
  }

  @Test
  void shouldNotCollideWithTheSameGenerationInAnotherDatabaseOnTheServer() throws Exception {
    db.execute("DROP DATABASE IF EXISTS other");
    db.execute("CREATE DATABASE other");
    String otherUrl = db.url().replaceAll("/postgres$", "/other");
    SchemaMigrations.migrate(otherUrl, "postgres", "postgres");
    PostgresTwoPhaseSink.Options other =
        new PostgresTwoPhaseSink.Options(
            new PostgresConnectionConfig(
                otherUrl, PostgresForTests.WRITER_USER, null, tmp.resolve("pw").toString()),
            "g1",
            "aggregates",
            options.settings(),
            Duration.ofSeconds(2));
    try (PostgresTwoPhaseWriter here = writer(0, 1, OptionalLong.empty());
        PostgresTwoPhaseWriter there =
            new PostgresTwoPhaseWriter(
                other,
                0,
                1,
                OptionalLong.empty(),
                UnregisteredMetricsGroup.createSinkWriterMetricGroup())) {
      here.write(minuteRow("signup", 1, 1), null);
      there.write(minuteRow("signup", 2, 1), null);
      here.prepareCommit(); // both prepare "g1, aggregates, subtask 0, transaction 1"
      there.prepareCommit();
      assertThat(db.preparedTransactionsAsStored())
          .hasSize(2)
          .allSatisfy(g -> assertThat(g).matches("tally_g1_aggregates_0_1_d\\d+"));
      // recovery in one database never touches the other's
      try (PostgresTwoPhaseWriter restarted = writer(0, 1, OptionalLong.of(0))) {
        assertThat(db.preparedTransactionsAsStored()).hasSize(1);
      }
    }
    try (Connection c = java.sql.DriverManager.getConnection(otherUrl, "postgres", "postgres");
        Statement s = c.createStatement()) {
      for (String gid : db.preparedTransactionsAsStored()) {
        s.execute("ROLLBACK PREPARED '" + gid + "'");
      }
    }
    db.execute("DROP DATABASE other");
  }

  @Test
  void shouldRejectGenerationNamesThatCouldInjectSql() {
    assertThatThrownBy(() -> TransactionIds.gid("g1'; DROP TABLE x; --", "aggregates", 0, 1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> TransactionIds.generationPattern("g1%"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(TransactionIds.generationPattern("g1")).isEqualTo("tally\\_g1\\_%");
    assertThat(TransactionIds.parse("tally_g1_aggregates_3_42"))
        .isEqualTo(new TransactionIds.Parsed("g1", "aggregates", 3, 42));
  }

  /** Commit requests as Flink's committer operator hands them over. */
  static final class TestRequests {
    final List<Committer.CommitRequest<PostgresCommittable>> all = new ArrayList<>();
    int alreadyCommitted;
    int retries;
    boolean retriesExpected;

    TestRequests(Collection<PostgresCommittable> committables) {
      for (PostgresCommittable c : committables) {
        all.add(
            new Committer.CommitRequest<>() {
              @Override
              public PostgresCommittable getCommittable() {
                return c;
              }

              @Override
              public int getNumberOfRetries() {
                return 0;
              }

              @Override
              public void signalFailedWithKnownReason(Throwable t) {
                throw new AssertionError("must never drop a committable", t);
              }

              @Override
              public void signalFailedWithUnknownReason(Throwable t) {
                throw new AssertionError("unexpected", t);
              }

              @Override
              public void retryLater() {
                if (!retriesExpected) {
                  throw new AssertionError("unexpected retry");
                }
                retries++;
              }

              @Override
              public void updateAndRetryLater(PostgresCommittable committable) {
                throw new AssertionError("unexpected retry");
              }

              @Override
              public void signalAlreadyCommitted() {
                alreadyCommitted++;
              }
            });
      }
    }
  }
}
