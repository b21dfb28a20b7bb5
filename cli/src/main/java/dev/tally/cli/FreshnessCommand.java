package dev.tally.cli;

import dev.tally.operators.json.Json;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "freshness",
    mixinStandardHelpOptions = true,
    description = {
      "How fresh the active generation's numbers are: complete_through (every window ending by",
      "then has all its on-time events), final_through (windows ending by then never change),",
      "staleness, and the partitions furthest behind in event time. Read as the analyst login."
    })
public final class FreshnessCommand implements Callable<Integer> {
  @Mixin StackOptions stackOptions;

  @Option(names = "--json", description = "print one JSON object")
  boolean json;

  @Option(
      names = "--partitions",
      paramLabel = "N",
      defaultValue = "5",
      description = "slowest partitions to show (default ${DEFAULT-VALUE})")
  int partitions;

  @Override
  public Integer call() throws Exception {
    try (Connection c = stackOptions.existingStack().analyst();
        Statement s = c.createStatement()) {
      Map<String, Object> result = new LinkedHashMap<>();
      try (ResultSet rs =
          s.executeQuery(
              "SELECT generation, complete_through, final_through, staleness_seconds, last_commit_at FROM analytics.freshness")) {
        if (!rs.next()) {
          throw new UserFacingErrors.UsageError(
              "no committed watermark for the active generation yet (is a job running? the first checkpoint may not have completed)");
        }
        result.put("generation", rs.getString(1));
        result.put("complete_through", text(rs.getObject(2, OffsetDateTime.class)));
        result.put("final_through", text(rs.getObject(3, OffsetDateTime.class)));
        result.put(
            "staleness_seconds",
            rs.getObject(4) == null
                ? Json.NULL
                : new dev.tally.operators.json.JsonNumber(rs.getBigDecimal(4).toPlainString()));
        result.put("last_commit_at", text(rs.getObject(5, OffsetDateTime.class)));
      }
      List<Object> slowest = new ArrayList<>();
      try (ResultSet rs =
          s.executeQuery(
              "SELECT topic || '/' || partition, max_event_time, event_time_lag_seconds, records FROM analytics.partition_lag"
                  + " ORDER BY max_event_time ASC NULLS FIRST LIMIT "
                  + Math.max(1, partitions))) {
        while (rs.next()) {
          Map<String, Object> p = new LinkedHashMap<>();
          p.put("partition", rs.getString(1));
          p.put("max_event_time", text(rs.getObject(2, OffsetDateTime.class)));
          p.put(
              "event_time_lag_seconds",
              rs.getObject(3) == null
                  ? Json.NULL
                  : new dev.tally.operators.json.JsonNumber(rs.getBigDecimal(3).toPlainString()));
          p.put("records", new dev.tally.operators.json.JsonNumber(Long.toString(rs.getLong(4))));
          slowest.add(p);
        }
      }
      result.put("slowest_partitions", slowest);
      if (json) {
        System.out.println(Json.write(result));
        return 0;
      }
      System.out.println("generation        " + result.get("generation"));
      System.out.println(
          "complete_through  "
              + show(result.get("complete_through"))
              + "   every window ending by then has all its on-time events");
      System.out.println(
          "final_through     "
              + show(result.get("final_through"))
              + "   windows ending by then never change");
      System.out.println("staleness         " + show(result.get("staleness_seconds")) + " s");
      System.out.println("last commit       " + show(result.get("last_commit_at")));
      System.out.println("slowest partitions (event time):");
      for (Object o : slowest) {
        Map<?, ?> p = (Map<?, ?>) o;
        System.out.printf(
            "  %-24s max event %-22s lag %s s%n",
            p.get("partition"),
            show(p.get("max_event_time")),
            show(p.get("event_time_lag_seconds")));
      }
      return 0;
    }
  }

  private static Object text(OffsetDateTime t) {
    return t == null ? Json.NULL : t.toInstant().toString();
  }

  private static String show(Object v) {
    return v == Json.NULL || v == null ? "—" : v.toString();
  }
}
