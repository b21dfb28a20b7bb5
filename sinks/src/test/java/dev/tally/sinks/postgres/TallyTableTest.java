package dev.tally.sinks.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.operators.model.TallyRow;
import dev.tally.sinks.PostgresForTests;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The one spec of each {@code tally.*} table agrees with the schema the migrations create: it names
 * every column, and its key is the table's unique key, so the generated insert, compaction and copy
 * cannot drift from the schema.
 */
class TallyTableTest {
  private static PostgresForTests db;

  @BeforeAll
  static void start() throws Exception {
    db = PostgresForTests.start();
  }

  @AfterAll
  static void stop() throws Exception {
    db.close();
  }

  @ParameterizedTest
  @EnumSource(TallyTable.class)
  void theSpecNamesEveryColumnOfItsTable(TallyTable t) throws Exception {
    Set<String> spec = new LinkedHashSet<>();
    spec.add("generation");
    t.key.forEach(c -> spec.add(c.name()));
    t.key.forEach(c -> spec.add(c.matchColumn()));
    spec.add("revision");
    spec.addAll(t.values);
    spec.add("sink_subtask");
    spec.add("sink_checkpoint");
    spec.add("written_at"); // every table's, filled by the database
    List<String> columns =
        strings(
            "SELECT column_name FROM information_schema.columns"
                + " WHERE table_schema = 'tally' AND table_name = ?",
            t.tableName());
    assertThat(columns).isNotEmpty();
    assertThat(new HashSet<>(columns)).isEqualTo(spec);
  }

  /**
   * Some table has a unique index over exactly (generation, key…, revision); a nullable key column
   * is indexed through an expression ({@code COALESCE(hour, …)}), so the index is matched by its
   * definition.
   */
  @ParameterizedTest
  @EnumSource(TallyTable.class)
  void theSpecsKeyIsTheTablesUniqueKey(TallyTable t) throws Exception {
    List<String> key = new ArrayList<>();
    key.add("generation");
    t.key.forEach(c -> key.add(c.matchColumn()));
    key.add("revision");
    List<String> matching = new ArrayList<>();
    try (Connection c = db.admin();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT i.indnatts, pg_get_indexdef(i.indexrelid) FROM pg_index i"
                    + " WHERE i.indisunique AND i.indrelid = ('tally.' || ?)::regclass")) {
      ps.setString(1, t.tableName());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String columns = rs.getString(2).replaceAll("^[^(]*\\((.*)\\)$", "$1");
          boolean all =
              key.stream()
                  .allMatch(k -> Pattern.compile("\\b" + k + "\\b").matcher(columns).find());
          if (rs.getInt(1) == key.size() && all) {
            matching.add(rs.getString(2));
          }
        }
      }
    }
    assertThat(matching).as("a unique index on %s", key).isNotEmpty();
  }

  /**
   * The binders set their parameters by index: a row bound through its table's insert lands with
   * every field in its own column (an expectation written out per table, not derived from the
   * spec).
   */
  @ParameterizedTest
  @EnumSource(TallyRow.Table.class)
  void everyKindOfRowLandsInItsColumns(TallyRow.Table kind) throws Exception {
    TallyRow r;
    String select;
    List<String> expected;
    switch (kind) {
      case EVENT_COUNTS -> {
        r = TallyRow.eventCount("p", TallyRow.MINUTE, 60_000, "signup");
        r.events = 11;
        r.persons = 7;
        select =
            "project, grain, (extract(epoch FROM window_start) * 1000)::bigint, event, revision,"
                + " events, persons";
        expected = List.of("p", "minute", "60000", "signup", "3", "11", "7");
      }
      case BREAKDOWN_COUNTS -> {
        r = TallyRow.breakdown("p", 3_600_000, "signup", "$browser", "Firefox 120");
        r.events = 5;
        r.persons = 2;
        select =
            "project, (extract(epoch FROM window_start) * 1000)::bigint, event, property, value,"
                + " revision, events, persons";
        expected = List.of("p", "3600000", "signup", "$browser", "Firefox 120", "3", "5", "2");
      }
      case LEDGER -> {
        r = TallyRow.ledger("p", 7_200_000);
        r.consumed = 21;
        r.aggregated = 13;
        r.duplicates = 5;
        r.tooLate = 2;
        r.deadLettered = 1;
        select =
            "project, (extract(epoch FROM hour) * 1000)::bigint, revision, consumed, aggregated,"
                + " duplicates, too_late, dead_lettered";
        expected = List.of("p", "7200000", "3", "21", "13", "5", "2", "1");
      }
      case SOURCE_OFFSETS -> {
        r = TallyRow.sourceOffsets("events_raw", 1);
        r.firstOffset = 100;
        r.nextOffset = 150;
        r.consumed = 50;
        r.maxEventMillis = 999;
        select = "topic, partition, revision, first_offset, next_offset, records, max_event_ms";
        expected = List.of("events_raw", "1", "3", "100", "150", "50", "999");
      }
      case DAILY_ACTIVE -> {
        r = TallyRow.dailyActive("p", 86_400_000);
        r.events = 8;
        r.persons = 3;
        select = "project, day::text, revision, events, persons";
        expected = List.of("p", "1970-01-02", "3", "8", "3");
      }
      case WARNINGS -> {
        r = TallyRow.warning("p", 3_600_005, TallyRow.WARNING_MERGE_REFUSED);
        r.events = 6;
        select = "project, (extract(epoch FROM hour) * 1000)::bigint, kind, revision, occurrences";
        expected = List.of("p", "3600000", "person_merge_refused", "3", "6");
      }
      default -> throw new IllegalArgumentException(kind.toString());
    }
    r.revision = 3;
    String generation = "bind" + kind.ordinal();
    TallyTable table = TallyTable.of(kind);
    try (Connection c = db.admin()) {
      GenerationRegistry.register(
          c, generation, new PostgresTwoPhaseSink.GenerationSettings(0, 0, List.of()));
      try (PreparedStatement ps = c.prepareStatement(RowInserts.BY_TABLE.get(kind).sql())) {
        RowInserts.BY_TABLE.get(kind).bind(ps, generation, r, 1, 42);
        assertThat(ps.executeUpdate()).isEqualTo(1);
      }
      List<String> actual = new ArrayList<>();
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT "
                  + select
                  + ", sink_subtask, sink_checkpoint FROM tally."
                  + table.tableName()
                  + " WHERE generation = ?")) {
        ps.setString(1, generation);
        try (ResultSet rs = ps.executeQuery()) {
          assertThat(rs.next()).isTrue();
          for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
            actual.add(rs.getString(i));
          }
          assertThat(rs.next()).isFalse();
        }
      }
      List<String> withProvenance = new ArrayList<>(expected);
      withProvenance.addAll(List.of("1", "42"));
      assertThat(actual).isEqualTo(withProvenance);
    }
  }

  /** A key column the spec calls nullable is nullable in the schema, and only those. */
  @ParameterizedTest
  @EnumSource(TallyTable.class)
  void theSpecsNullableKeysAreTheSchemas(TallyTable t) throws Exception {
    List<String> nullable =
        strings(
            "SELECT column_name FROM information_schema.columns"
                + " WHERE table_schema = 'tally' AND table_name = ? AND is_nullable = 'YES'",
            t.tableName());
    for (TallyTable.Column c : t.key) {
      assertThat(nullable.contains(c.name())).as(c.name()).isEqualTo(c.nullable());
    }
  }

  private static List<String> strings(String sql, String parameter) throws Exception {
    List<String> out = new ArrayList<>();
    try (Connection c = db.admin();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, parameter);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
    }
    return out;
  }
}
