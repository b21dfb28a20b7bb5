package dev.tally.sinks.postgres;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;

/**
 * {@code tally.generations}: the one record of the settings a generation's rows and freshness mean
 * something under (out-of-orderness, allowed lateness, breakdowns). Written from the job's own
 * settings — by its sink when it starts, and by the CLI from the same program arguments before —
 * and never changed: {@code final_through} is {@code complete_through} minus the registered
 * lateness, so a job running with other settings than its registration would publish a wrong
 * freshness. Such a start is refused; a new setting is a new generation.
 */
public final class GenerationRegistry {
  private GenerationRegistry() {}

  /** A generation that is registered with other settings than the job that would write it. */
  public static final class SettingsMismatch extends SQLException {
    SettingsMismatch(String message) {
      super(message, "22023"); // invalid_parameter_value: not transient, never retried
    }
  }

  /**
   * Registers {@code generation} with {@code settings}, or checks that its registration says the
   * same. Idempotent.
   *
   * @throws SettingsMismatch when it is registered with other settings
   */
  public static void register(
      Connection c, String generation, PostgresTwoPhaseSink.GenerationSettings settings)
      throws SQLException {
    TransactionIds.validateName("generation", generation);
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO tally.generations (generation, max_out_of_orderness_ms, allowed_lateness_ms, breakdowns)"
                + " VALUES (?, ?, ?, ?) ON CONFLICT (generation) DO NOTHING")) {
      ps.setString(1, generation);
      ps.setLong(2, settings.maxOutOfOrdernessMs());
      ps.setLong(3, settings.allowedLatenessMs());
      Array breakdowns = c.createArrayOf("text", settings.breakdowns().toArray());
      ps.setArray(4, breakdowns);
      ps.executeUpdate();
    }
    PostgresTwoPhaseSink.GenerationSettings registered = registered(c, generation);
    if (!settings.equals(registered)) {
      throw new SettingsMismatch(
          "generation '"
              + generation
              + "' is registered with "
              + describe(registered)
              + " but this job runs with "
              + describe(settings)
              + ": its rows and freshness were computed under the registered settings, so they"
              + " cannot change. Run the job with the registered settings, or start a new"
              + " generation (./tally upgrade --strategy blue-green, or deploy --generation NEW).");
    }
  }

  /** The registered settings of {@code generation}, or null. */
  public static PostgresTwoPhaseSink.GenerationSettings registered(Connection c, String generation)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT max_out_of_orderness_ms, allowed_lateness_ms, breakdowns FROM tally.generations"
                + " WHERE generation = ?")) {
      ps.setString(1, generation);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        String[] specs = (String[]) rs.getArray(3).getArray();
        return new PostgresTwoPhaseSink.GenerationSettings(
            rs.getLong(1), rs.getLong(2), List.copyOf(Arrays.asList(specs)));
      }
    }
  }

  static String describe(PostgresTwoPhaseSink.GenerationSettings s) {
    return "max-out-of-orderness "
        + s.maxOutOfOrdernessMs()
        + " ms, allowed-lateness "
        + s.allowedLatenessMs()
        + " ms, breakdowns "
        + s.breakdowns();
  }
}
