package dev.tally.savepoints;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.avro.PersonState;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bootstrapping persons from table rows: valid rows become persons in a real savepoint, invalid
 * rows and a second claim of a distinct_id are rejected with a reason, and the counts add up.
 */
class PersonsBootstrapTest {
  @TempDir Path tmp;

  private static PersonRows.Row row(String csv) {
    return PersonRows.fromCsv(csv);
  }

  @Test
  void shouldWriteValidRowsAndRejectInvalidOnesAndSecondClaims() throws Exception {
    List<PersonRows.Row> rows =
        List.of(
            row("acme,p-1,\"[\"\"user-1\"\",\"\"anon-9\"\"]\",\"{\"\"plan\"\":\"\"pro\"\"}\",true"),
            row("acme,,\"[\"\"user-2\"\"]\",{},false"),
            row("acme,p-3,\"[\"\"user-3\"\"]\",\"[1]\",false"),
            row("ac me,p-4,\"[\"\"user-4\"\"]\",{},false"),
            row("acme,p-5,\"[]\",{},false"),
            row("acme,p-6,\"[\"\"user-6\"\"]\",{},yes"),
            row("acme,p-7,\"[\"\"anon-9\"\"]\",{},false"));
    String path = tmp.resolve("sp").toUri().toString();
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(2);
    PersonsSavepoint.bootstrap(
        env,
        env.fromData(rows, TypeInformation.of(PersonRows.Row.class)),
        "enrich-persons",
        PersonsSavepoint.DEFAULT_MAX_PARALLELISM,
        path);
    JobExecutionResult result = env.execute("bootstrap");

    PersonsSavepoint.Counts counts = PersonsSavepoint.counts(result);
    assertThat(counts.rows()).isEqualTo(7);
    assertThat(counts.written()).isEqualTo(2);
    assertThat(counts.rejected()).isEqualTo(5);
    assertThat(String.join("\n", counts.reasons()))
        .contains("properties must be a JSON object")
        .contains("project is not a valid project name")
        .contains("distinct_ids must be a non-empty JSON array")
        .contains("is_identified must be true or false")
        .contains("distinct_id anon-9 already belongs to another person");

    List<String> persons = new ArrayList<>();
    try (CloseableIterator<Tuple2<String, PersonState>> it =
        PersonsSavepoint.read(
                StreamExecutionEnvironment.getExecutionEnvironment(), path, "enrich-persons")
            .executeAndCollect()) {
      it.forEachRemaining(t -> persons.add(t.f1.getPersonId() + " " + t.f1.getDistinctIds()));
    }
    assertThat(persons)
        .containsExactlyInAnyOrder(
            "p-1 [user-1, anon-9]",
            dev.tally.operators.persons.PersonIds.personId("acme", "user-2") + " [user-2]");
  }

  @Test
  void readsRfc4180RecordsWhoseQuotedFieldsSpanLines() throws Exception {
    Path csv = tmp.resolve("persons.csv");
    java.nio.file.Files.writeString(
        csv,
        PersonRows.CSV_HEADER
            + "\r\n"
            + "acme,p-1,\"[\"\"user-1\"\"]\",\"{\n  \"\"plan\"\": \"\"pro, annual\"\"\n}\",true\r\n"
            + "\r\n"
            + "acme,p-2,\"[\"\"user-2\"\",\n \"\"anon-2\"\"]\",{},false\n",
        java.nio.charset.StandardCharsets.UTF_8);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(1);
    List<PersonRows.Row> rows = new ArrayList<>();
    try (CloseableIterator<PersonRows.Row> it = PersonTables.csv(env, csv).executeAndCollect()) {
      it.forEachRemaining(rows::add);
    }
    assertThat(rows).hasSize(2);
    assertThat(rows.get(0).properties()).isEqualTo("{\n  \"plan\": \"pro, annual\"\n}");
    assertThat(rows.get(0).isIdentified()).isEqualTo("true");
    assertThat(rows.get(1).distinctIds()).isEqualTo("[\"user-2\",\n \"anon-2\"]");
    assertThat(PersonRows.problem(rows.get(0))).isNull();
    assertThat(PersonRows.problem(rows.get(1))).isNull();
    assertThat(rows.get(1).where()).startsWith("record 3");
  }
}
