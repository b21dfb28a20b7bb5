package dev.tally.cli;

import dev.tally.jobs.replay.CsvTablesSink;
import dev.tally.operators.json.Json;
import dev.tally.operators.json.JsonNumber;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "export",
    mixinStandardHelpOptions = true,
    description = {
      "Export a project's event counts for [--from, --to) — final windows only. If the range",
      "includes windows that may still change, exit 3 and say until when data is final, unless",
      "--allow-partial, which marks each row. The output carries the freshness stamp it was taken at."
    })
public final class ExportCommand implements Callable<Integer> {
  /** Exit code when the range is not final yet (and --allow-partial was not given). */
  static final int NOT_FINAL = 3;

  enum Grain {
    hour,
    minute
  }

  enum Format {
    csv,
    json
  }

  @Mixin StackOptions stackOptions;

  @Option(names = "--project", required = true, paramLabel = "P")
  String project;

  @Option(
      names = "--from",
      required = true,
      paramLabel = "T1",
      description = "inclusive, e.g. 2026-11-23T10:00:00Z")
  String from;

  @Option(
      names = "--to",
      required = true,
      paramLabel = "T2",
      description = "exclusive, e.g. 2026-11-23T12:00:00Z")
  String to;

  @Option(
      names = "--grain",
      defaultValue = "hour",
      description = "hour or minute (default ${DEFAULT-VALUE})")
  Grain grain;

  @Option(
      names = "--format",
      defaultValue = "csv",
      description = "csv or json (default ${DEFAULT-VALUE})")
  Format format;

  @Option(
      names = "--allow-partial",
      description = "also export windows that may still change, marked final=false")
  boolean allowPartial;

  @Option(
      names = "--out",
      paramLabel = "FILE",
      description = "write here instead of standard output")
  Path out;

  @Override
  public Integer call() throws Exception {
    Instant start = instant("--from", from);
    Instant end = instant("--to", to);
    if (!start.isBefore(end)) {
      throw new UserFacingErrors.UsageError("--from " + from + " must be before --to " + to);
    }
    try (Connection c = stackOptions.existingStack().analyst()) {
      return export(c, start, end, System.out, System.err);
    }
  }

  /**
   * The export over an analyst connection; returns the exit code. The stamp and the rows are read
   * in one REPEATABLE READ snapshot: read apart, a commit between them could add rows newer than
   * the stamp says (or a flip could change the generation between the two).
   */
  public int export(
      Connection c, Instant start, Instant end, PrintStream stdout, PrintStream stderr)
      throws Exception {
    boolean autoCommit = c.getAutoCommit();
    int isolation = c.getTransactionIsolation();
    c.setAutoCommit(false);
    c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
    c.setReadOnly(true);
    try {
      return exportInOneSnapshot(c, start, end, stdout, stderr);
    } finally {
      c.rollback(); // read-only: nothing to keep
      c.setReadOnly(false);
      c.setTransactionIsolation(isolation);
      c.setAutoCommit(autoCommit);
    }
  }

  private int exportInOneSnapshot(
      Connection c, Instant start, Instant end, PrintStream stdout, PrintStream stderr)
      throws Exception {
    Instant completeThrough;
    Instant finalThrough;
    String generation;
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT generation, complete_through, final_through FROM analytics.freshness")) {
      if (!rs.next()) {
        throw new UserFacingErrors.UsageError(
            "no committed data for the active generation yet: nothing is final");
      }
      generation = rs.getString(1);
      completeThrough = instantOrNull(rs.getObject(2, OffsetDateTime.class));
      finalThrough = instantOrNull(rs.getObject(3, OffsetDateTime.class));
    }
    requireKnownProject(c, generation);
    boolean partial = finalThrough == null || end.isAfter(finalThrough);
    if (partial && !allowPartial) {
      stderr.println(
          "tally: the range includes windows that are not final yet: data is final through "
              + (finalThrough == null ? "nothing yet" : finalThrough)
              + " (complete through "
              + (completeThrough == null ? "nothing yet" : completeThrough)
              + "); export up to that instant, wait, or pass --allow-partial");
      return NOT_FINAL;
    }
    List<Map<String, Object>> rows = rows(c, start, end);
    PrintStream target =
        out == null
            ? stdout
            : new PrintStream(Files.newOutputStream(out), true, StandardCharsets.UTF_8);
    try {
      write(target, generation, completeThrough, finalThrough, rows);
    } finally {
      if (out != null) {
        target.close();
      }
    }
    if (out != null) {
      stderr.printf("exported %d rows to %s (final through %s)%n", rows.size(), out, finalThrough);
    }
    return 0;
  }

  private void requireKnownProject(Connection c, String generation) throws Exception {
    try (PreparedStatement ps =
        c.prepareStatement("SELECT DISTINCT project FROM analytics.ledger ORDER BY 1")) {
      List<String> known = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          known.add(rs.getString(1));
        }
      }
      known.remove(dev.tally.operators.model.LedgerEntry.INVALID_PROJECT);
      if (!known.contains(project)) {
        throw new UserFacingErrors.UsageError(
            "unknown project '"
                + project
                + "' in generation "
                + generation
                + " (known: "
                + String.join(", ", known)
                + ")");
      }
    }
  }

  private List<Map<String, Object>> rows(Connection c, Instant start, Instant end)
      throws Exception {
    List<Map<String, Object>> rows = new ArrayList<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT window_start, window_end, event, events, persons, is_final FROM analytics.event_counts"
                + " WHERE project = ? AND grain = ? AND window_start >= ? AND window_end <= ?"
                + " AND (is_final OR ?) ORDER BY window_start, event")) {
      ps.setString(1, project);
      ps.setString(2, grain.name());
      ps.setTimestamp(3, Timestamp.from(start));
      ps.setTimestamp(4, Timestamp.from(end));
      ps.setBoolean(5, allowPartial);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          Map<String, Object> row = new LinkedHashMap<>();
          row.put("project", project);
          row.put("grain", grain.name());
          row.put("window_start", rs.getObject(1, OffsetDateTime.class).toInstant().toString());
          row.put("window_end", rs.getObject(2, OffsetDateTime.class).toInstant().toString());
          row.put("event", rs.getString(3));
          row.put("events", new JsonNumber(Long.toString(rs.getLong(4))));
          row.put("persons", new JsonNumber(Long.toString(rs.getLong(5))));
          row.put("final", rs.getBoolean(6));
          rows.add(row);
        }
      }
    }
    return rows;
  }

  private void write(
      PrintStream o,
      String generation,
      Instant complete,
      Instant fin,
      List<Map<String, Object>> rows) {
    if (format == Format.json) {
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("generation", generation);
      doc.put("complete_through", complete == null ? Json.NULL : complete.toString());
      doc.put("final_through", fin == null ? Json.NULL : fin.toString());
      doc.put("exported_at", Instant.now().toString());
      doc.put("rows", new ArrayList<Object>(rows));
      o.println(Json.write(doc));
      return;
    }
    o.println(
        "project,grain,window_start,window_end,event,events,persons,final,complete_through,final_through");
    String stamp =
        (complete == null ? "" : complete.toString()) + "," + (fin == null ? "" : fin.toString());
    for (Map<String, Object> r : rows) {
      o.println(
          String.join(
                  ",",
                  CsvTablesSink.csvField(project),
                  grain.name(),
                  (String) r.get("window_start"),
                  (String) r.get("window_end"),
                  CsvTablesSink.csvField((String) r.get("event")),
                  r.get("events").toString(),
                  r.get("persons").toString(),
                  r.get("final").toString())
              + ","
              + stamp);
    }
  }

  public static Instant instant(String option, String value) {
    try {
      return OffsetDateTime.parse(value).toInstant();
    } catch (DateTimeParseException e) {
      throw new UserFacingErrors.UsageError(
          "cannot parse " + option + " '" + value + "': use an instant like 2026-11-23T10:00:00Z");
    }
  }

  private static Instant instantOrNull(OffsetDateTime t) {
    return t == null ? null : t.toInstant();
  }
}
