package dev.tally.jobs;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;

/**
 * The ingestion job's program arguments ({@code --key value}), built from its typed options ({@link
 * JobOptions}) instead of hand-typed keys, and read back the way the job reads them. A key set
 * twice keeps the last value, in its first position.
 */
public final class JobArgs {
  private final Map<String, String> values = new LinkedHashMap<>();

  private JobArgs() {}

  public static JobArgs empty() {
    return new JobArgs();
  }

  /** Program arguments Tally built: {@code --key value} pairs. */
  public static JobArgs parse(List<String> args) {
    JobArgs a = new JobArgs();
    for (int i = 0; i < args.size(); i += 2) {
      String key = args.get(i);
      if (!key.startsWith("--") || i + 1 >= args.size()) {
        throw new IllegalArgumentException(
            "program arguments are --key value pairs; cannot read '" + key + "' in " + args);
      }
      a.values.put(key.substring(2), args.get(i + 1));
    }
    return a;
  }

  /** Sets a typed option, written as Flink writes the option's type (e.g. {@code 500 ms}). */
  public <T> JobArgs set(ConfigOption<T> option, T value) {
    Configuration c = new Configuration();
    c.set(option, value);
    values.put(option.key(), c.toMap().get(option.key()));
    return this;
  }

  /**
   * Sets an option by its key, for keys a user gave (e.g. {@code --job-option}); the job checks
   * them as it checks its own arguments.
   */
  public JobArgs set(String key, String value) {
    values.put(key, value);
    return this;
  }

  public <T> T get(ConfigOption<T> option) {
    return toConfiguration().get(option);
  }

  public Configuration toConfiguration() {
    return Configuration.fromMap(values);
  }

  public List<String> toList() {
    List<String> out = new ArrayList<>();
    values.forEach(
        (k, v) -> {
          out.add("--" + k);
          out.add(v);
        });
    return out;
  }

  @Override
  public String toString() {
    return String.join(" ", toList());
  }
}
