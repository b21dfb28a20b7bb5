package dev.tally.jobs.replay;

import dev.tally.operators.model.TallyRow;
import dev.tally.operators.model.Times;
import dev.tally.operators.model.Utf8Order;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * Keeps the newest revision of every aggregate and ledger row and, at the end of the input, writes
 * {@code event_counts.csv}, {@code breakdown_counts.csv} and {@code ledger.csv} as SEMANTICS.md §10
 * specifies (RFC 4180, minimal quoting, rows sorted by UTF-8 bytes).
 */
public final class CsvTablesSink implements Sink<TallyRow> {
  private final String dir;

  public CsvTablesSink(Path dir) {
    this.dir = dir.toString();
  }

  @Override
  public SinkWriter<TallyRow> createWriter(WriterInitContext context) {
    return new Writer_(Paths.get(dir));
  }

  private static final class Writer_ implements SinkWriter<TallyRow> {
    private final Path dir;
    private final Map<String, TallyRow> latest = new HashMap<>();
    private boolean written;

    Writer_(Path dir) {
      this.dir = dir;
    }

    @Override
    public void write(TallyRow row, Context ctx) {
      latest.merge(row.key(), row, (a, b) -> b.revision >= a.revision ? b : a);
    }

    @Override
    public void flush(boolean endOfInput) throws IOException {
      if (endOfInput && !written) {
        written = true;
        writeTables(dir, latest.values());
      }
    }

    @Override
    public void close() {}
  }

  static void writeTables(Path dir, Iterable<TallyRow> rows) throws IOException {
    List<List<String>> counts = new ArrayList<>();
    List<List<String>> breakdowns = new ArrayList<>();
    List<List<String>> ledger = new ArrayList<>();
    for (TallyRow r : rows) {
      switch (r.table) {
        case EVENT_COUNTS ->
            counts.add(
                List.of(
                    r.project,
                    r.grain,
                    Times.format(r.windowStart),
                    r.event,
                    Long.toString(r.events),
                    Long.toString(r.persons)));
        case BREAKDOWN_COUNTS ->
            breakdowns.add(
                List.of(
                    r.project,
                    Times.format(r.windowStart),
                    r.event,
                    r.property,
                    r.value,
                    Long.toString(r.events),
                    Long.toString(r.persons)));
        case LEDGER ->
            ledger.add(
                List.of(
                    r.project,
                    Times.formatHour(r.windowStart),
                    Long.toString(r.consumed),
                    Long.toString(r.aggregated),
                    Long.toString(r.duplicates),
                    Long.toString(r.tooLate),
                    Long.toString(r.deadLettered)));
        case SOURCE_OFFSETS, DAILY_ACTIVE, WARNINGS -> {
          // not part of the replay files (no Kafka positions; daily rows are streaming-only)
        }
      }
    }
    writeCsv(
        dir.resolve("event_counts.csv"),
        "project,grain,window_start,event,events,persons",
        counts,
        4);
    writeCsv(
        dir.resolve("breakdown_counts.csv"),
        "project,window_start,event,property,value,events,persons",
        breakdowns,
        5);
    writeCsv(
        dir.resolve("ledger.csv"),
        "project,hour,consumed,aggregated,duplicates,too_late,dead_lettered",
        ledger,
        2);
  }

  private static void writeCsv(Path file, String header, List<List<String>> rows, int keyColumns)
      throws IOException {
    rows.sort(
        (a, b) -> {
          for (int i = 0; i < keyColumns; i++) {
            int c = Utf8Order.compare(a.get(i), b.get(i));
            if (c != 0) {
              return c;
            }
          }
          return 0;
        });
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      w.write(header);
      w.write('\n');
      for (List<String> row : rows) {
        for (int i = 0; i < row.size(); i++) {
          if (i > 0) {
            w.write(',');
          }
          w.write(csvField(row.get(i)));
        }
        w.write('\n');
      }
    }
  }

  /** RFC 4180 with minimal quoting: quote only fields containing , " CR or LF. */
  public static String csvField(String s) {
    if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\r') < 0 && s.indexOf('\n') < 0) {
      return s;
    }
    return '"' + s.replace("\"", "\"\"") + '"';
  }
}
