package dev.tally.savepoints;

import dev.tally.operators.json.Json;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.file.src.reader.SimpleStreamFormat;
import org.apache.flink.connector.jdbc.core.datastream.source.JdbcSource;
import org.apache.flink.connector.jdbc.core.datastream.source.reader.extractor.ResultExtractor;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/** Where {@code bootstrap-persons} reads an existing persons table from: a CSV file or JDBC. */
public final class PersonTables {
  private static final TypeInformation<PersonRows.Row> ROW =
      TypeInformation.of(PersonRows.Row.class);
  private static final Pattern TABLE =
      Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?");

  private PersonTables() {}

  /**
   * The records of a CSV file (RFC 4180: a quoted field may span lines) with the header {@link
   * PersonRows#CSV_HEADER}.
   */
  public static DataStream<PersonRows.Row> csv(StreamExecutionEnvironment env, Path file) {
    FileSource<PersonRows.Row> source =
        FileSource.forRecordStreamFormat(
                new CsvRows(), new org.apache.flink.core.fs.Path(file.toUri()))
            .build();
    return env.fromSource(source, WatermarkStrategy.noWatermarks(), "persons csv")
        .returns(ROW)
        .name("parse csv");
  }

  /** Reads a whole file as one stream of records (a record may span lines, so no splits). */
  static final class CsvRows extends SimpleStreamFormat<PersonRows.Row> {
    @Override
    public Reader<PersonRows.Row> createReader(Configuration config, FSDataInputStream stream)
        throws java.io.IOException {
      CSVParser parser =
          CSVParser.parse(
              new java.io.InputStreamReader(stream, java.nio.charset.StandardCharsets.UTF_8),
              PersonRows.CSV);
      java.util.Iterator<CSVRecord> records = parser.iterator();
      return new Reader<>() {
        @Override
        public PersonRows.Row read() {
          while (records.hasNext()) {
            CSVRecord r = records.next();
            if (r.size() == 1 && r.get(0).isBlank()) {
              continue; // a blank line
            }
            PersonRows.Row row = PersonRows.fromRecord(r);
            if (row != null) {
              return row;
            }
          }
          return null;
        }

        @Override
        public void close() throws java.io.IOException {
          parser.close();
        }
      };
    }

    @Override
    public TypeInformation<PersonRows.Row> getProducedType() {
      return ROW;
    }
  }

  /** A table name as it may appear in SQL (identifiers cannot be bound as parameters). */
  public static boolean isTableName(String table) {
    return TABLE.matcher(table).matches();
  }

  /**
   * The rows of {@code table} through Flink's {@link JdbcSource}. Columns: project, person_id,
   * distinct_ids (JSON text, jsonb or a text array), properties (JSON text or jsonb), is_identified
   * (boolean).
   */
  public static DataStream<PersonRows.Row> jdbc(
      StreamExecutionEnvironment env, String url, String table, String user, String password) {
    if (!isTableName(table)) {
      throw new IllegalArgumentException("not a table name: " + table);
    }
    JdbcSource<PersonRows.Row> source =
        JdbcSource.<PersonRows.Row>builder()
            .setDBUrl(url)
            .setUsername(user)
            .setPassword(password)
            .setSql(
                "SELECT project, person_id, distinct_ids, properties, is_identified FROM " + table)
            .setResultExtractor(new RowOf())
            .setTypeInformation(ROW)
            .build();
    return env.fromSource(source, WatermarkStrategy.noWatermarks(), "persons table");
  }

  /** One result row as a {@link PersonRows.Row}. */
  static final class RowOf implements ResultExtractor<PersonRows.Row> {
    @Override
    public PersonRows.Row extract(ResultSet rs) throws SQLException {
      Object ids = rs.getObject(3);
      String distinctIds;
      if (ids instanceof java.sql.Array array) {
        List<Object> list = new ArrayList<>();
        for (Object id : (Object[]) array.getArray()) {
          list.add(id == null ? Json.NULL : id.toString());
        }
        distinctIds = Json.write(list);
      } else {
        distinctIds = rs.getString(3);
      }
      boolean identified = rs.getBoolean(5);
      String isIdentified = rs.wasNull() ? "(null)" : Boolean.toString(identified);
      String personId = rs.getString(2);
      return new PersonRows.Row(
          "row " + rs.getString(1) + "/" + personId,
          rs.getString(1),
          personId,
          distinctIds,
          rs.getString(4),
          isIdentified);
    }
  }
}
