package dev.tally.savepoints;

import dev.tally.avro.PersonState;
import dev.tally.operators.json.Json;
import dev.tally.operators.json.JsonException;
import dev.tally.operators.persons.PersonIds;
import dev.tally.operators.validation.EventValidator;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.accumulators.ListAccumulator;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Rows of an existing persons table, as {@code tally bootstrap-persons} reads them (CSV file or
 * JDBC table with the columns {@code project, person_id, distinct_ids, properties, is_identified}),
 * and their validation into person state.
 *
 * <p>A row is rejected — counted and reported, never written — when the project is not a valid
 * project name, distinct_ids is not a non-empty JSON array of non-empty strings, properties is not
 * a JSON object, or is_identified is not true/false. An empty person_id is derived from the first
 * distinct_id (the id Tally itself would have given the person, SEMANTICS.md §4).
 */
public final class PersonRows {
  /** Accumulator names, read from the job result. */
  public static final String ROWS = "tally-rows";

  public static final String REJECTED = "tally-rejected";
  public static final String WRITTEN = "tally-persons";
  public static final String REASONS = "tally-rejections";
  static final String CLAIMS_REJECTED = "tally-rejected-claims";
  static final String CLAIM_REASONS = "tally-rejections-claims";
  static final int MAX_REASONS_PER_SUBTASK = 20;

  private PersonRows() {}

  /** One row as read. */
  public record Row(
      String where,
      String project,
      String personId,
      String distinctIds,
      String properties,
      String isIdentified)
      implements Serializable {}

  /** The header a CSV file must start with. */
  public static final String CSV_HEADER = "project,person_id,distinct_ids,properties,is_identified";

  /** RFC 4180: quoted fields may hold commas, quotes ("") and line breaks; blank lines skipped. */
  static final org.apache.commons.csv.CSVFormat CSV =
      org.apache.commons.csv.CSVFormat.RFC4180.builder().setIgnoreEmptyLines(true).get();

  /** A CSV record as a row ({@code null} for the header). */
  public static Row fromRecord(org.apache.commons.csv.CSVRecord r) {
    List<String> f = new ArrayList<>(r.toList());
    String text = String.join(",", f);
    if (text.strip().equals(CSV_HEADER)) {
      return null;
    }
    int fields = f.size();
    while (f.size() < 5) {
      f.add(null);
    }
    String where =
        "record "
            + r.getRecordNumber()
            + ": "
            + (text.length() > 60 ? text.substring(0, 60) + "…" : text);
    return new Row(where, f.get(0), f.get(1), f.get(2), f.get(3), fields == 5 ? f.get(4) : "?");
  }

  /** One CSV record given as text, as a row ({@code null} for the header). */
  public static Row fromCsv(String record) {
    try (var parser = org.apache.commons.csv.CSVParser.parse(record, CSV)) {
      var records = parser.getRecords();
      if (records.size() != 1) {
        throw new IllegalArgumentException("not one CSV record: " + record);
      }
      return fromRecord(records.get(0));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Why the row cannot become a person, or null when it can. */
  static String problem(Row r) {
    if (r.project() == null || !EventValidator.isProject(r.project())) {
      return "project is not a valid project name";
    }
    Object ids;
    try {
      ids = Json.parse(r.distinctIds() == null ? "" : r.distinctIds());
    } catch (JsonException e) {
      return "distinct_ids is not JSON";
    }
    if (!(ids instanceof List<?> list) || list.isEmpty()) {
      return "distinct_ids must be a non-empty JSON array";
    }
    for (Object id : list) {
      if (!(id instanceof String s) || s.isEmpty()) {
        return "distinct_ids must hold non-empty strings";
      }
    }
    try {
      if (!(Json.parse(r.properties() == null ? "" : r.properties()) instanceof Map<?, ?>)) {
        return "properties must be a JSON object";
      }
    } catch (JsonException e) {
      return "properties is not JSON";
    }
    if (!"true".equals(r.isIdentified()) && !"false".equals(r.isIdentified())) {
      return "is_identified must be true or false";
    }
    return null;
  }

  /** The person a valid row describes. */
  static PersonState toPerson(Row r) throws JsonException {
    List<String> ids = new ArrayList<>();
    for (Object id : (List<?>) Json.parse(r.distinctIds())) {
      ids.add((String) id);
    }
    String personId =
        r.personId() == null || r.personId().isEmpty()
            ? PersonIds.personId(r.project(), ids.get(0))
            : r.personId();
    return PersonState.newBuilder()
        .setPersonId(personId)
        .setProperties(Json.write(Json.parse(r.properties())))
        .setDistinctIds(ids)
        .setIsIdentified(Boolean.parseBoolean(r.isIdentified()))
        .setCreatedAt(0L)
        .build();
  }

  /** Validates rows into (project, person); counts rows and rejections in accumulators. */
  public static final class Validate extends ProcessFunction<Row, Tuple2<String, PersonState>> {
    private transient LongCounter rows;
    private transient LongCounter rejected;
    private transient ListAccumulator<String> reasons;

    @Override
    public void open(OpenContext openContext) {
      rows = getRuntimeContext().getLongCounter(ROWS);
      rejected = getRuntimeContext().getLongCounter(REJECTED);
      reasons = new ListAccumulator<>();
      getRuntimeContext().addAccumulator(REASONS, reasons);
    }

    @Override
    public void processElement(Row r, Context ctx, Collector<Tuple2<String, PersonState>> out)
        throws JsonException {
      if (r == null) {
        return;
      }
      rows.add(1);
      String problem = problem(r);
      if (problem != null) {
        reject(r.where(), problem);
        return;
      }
      out.collect(Tuple2.of(r.project(), toPerson(r)));
    }

    private void reject(String where, String problem) {
      rejected.add(1);
      if (reasons.getLocalValue().size() < MAX_REASONS_PER_SUBTASK) {
        reasons.add(where + ": " + problem);
      }
    }
  }

  /**
   * Keyed by project: a distinct_id resolves to one person and a person_id names one person, so a
   * row that claims either a second time is rejected whole, never half-written.
   */
  public static final class RejectSecondClaims
      extends KeyedProcessFunction<
          String, Tuple2<String, PersonState>, Tuple2<String, PersonState>> {
    private transient MapState<String, Boolean> distinctIds;
    private transient MapState<String, Boolean> personIds;
    private transient LongCounter written;
    private transient LongCounter rejected;
    private transient ListAccumulator<String> reasons;

    @Override
    public void open(OpenContext openContext) {
      distinctIds =
          getRuntimeContext()
              .getMapState(new MapStateDescriptor<>("claimed", Types.STRING, Types.BOOLEAN));
      personIds =
          getRuntimeContext()
              .getMapState(new MapStateDescriptor<>("person-ids", Types.STRING, Types.BOOLEAN));
      written = getRuntimeContext().getLongCounter(WRITTEN);
      rejected = getRuntimeContext().getLongCounter(CLAIMS_REJECTED);
      reasons = new ListAccumulator<>();
      getRuntimeContext().addAccumulator(CLAIM_REASONS, reasons);
    }

    @Override
    public void processElement(
        Tuple2<String, PersonState> value, Context ctx, Collector<Tuple2<String, PersonState>> out)
        throws Exception {
      PersonState person = value.f1;
      String conflict = personIds.contains(person.getPersonId()) ? "person_id already used" : null;
      for (String id : person.getDistinctIds()) {
        if (conflict == null && distinctIds.contains(id)) {
          conflict = "distinct_id " + id + " already belongs to another person";
        }
      }
      if (conflict != null) {
        rejected.add(1);
        if (reasons.getLocalValue().size() < MAX_REASONS_PER_SUBTASK) {
          reasons.add(value.f0 + "/" + person.getPersonId() + ": " + conflict);
        }
        return;
      }
      personIds.put(person.getPersonId(), Boolean.TRUE);
      for (String id : person.getDistinctIds()) {
        distinctIds.put(id, Boolean.TRUE);
      }
      written.add(1);
      out.collect(value);
    }
  }
}
