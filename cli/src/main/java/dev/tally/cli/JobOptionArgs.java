package dev.tally.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The repeatable {@code --job-option KEY=VALUE} of the bench and the drill. */
final class JobOptionArgs {
  static final String DESCRIPTION =
      "a job option (tally.* or a Flink option such as state.backend.rocksdb.use-bloom-filter)"
          + " for every job of the run (repeatable; recorded in the report)";

  private JobOptionArgs() {}

  /** The options in the order given; a later KEY wins. */
  static Map<String, String> parse(List<String> given) {
    Map<String, String> options = new LinkedHashMap<>();
    for (String o : given == null ? List.<String>of() : given) {
      int eq = o.indexOf('=');
      if (eq <= 0) {
        throw new UserFacingErrors.UsageError("--job-option must be KEY=VALUE, got '" + o + "'");
      }
      options.put(o.substring(0, eq), o.substring(eq + 1));
    }
    return options;
  }
}
