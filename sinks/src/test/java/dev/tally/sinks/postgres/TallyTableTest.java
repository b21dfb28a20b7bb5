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

  @ParameterizedTest
  @EnumSource(TallyRow.Table.class)
  void everyKindOfRowHasATableAndAnInsert(TallyRow.Table rows) {
    TallyTable t = TallyTable.of(rows);
    assertThat(RowInserts.BY_TABLE.get(rows).sql()).isEqualTo(t.insertSql());
    assertThat(Compaction.ALL).contains(t.compactionSql());
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
