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

  /**
   * Registers {@code generation} with {@code settings} ({@link #register}) and makes it the
   * generation analysts see, in one transaction.
   */
  public static void activate(
      Connection admin, String generation, PostgresTwoPhaseSink.GenerationSettings settings)
      throws SQLException {
    InTransaction.run(
        admin,
        () -> {
          register(admin, generation, settings);
          try (PreparedStatement a =
              admin.prepareStatement(
                  "INSERT INTO tally.active_generation (singleton, generation) VALUES (true, ?)"
                      + " ON CONFLICT (singleton) DO UPDATE SET generation = EXCLUDED.generation, switched_at = now()")) {
            a.setString(1, generation);
            a.executeUpdate();
          }
          return null;
        });
  }

  /** Makes {@code generation} the one analysts see (it must be registered), in one statement. */
  public static void flipTo(Connection admin, String generation) throws SQLException {
    try (PreparedStatement a =
        admin.prepareStatement(
            "INSERT INTO tally.active_generation (singleton, generation)"
                + " SELECT true, generation FROM tally.generations WHERE generation = ?"
                + " ON CONFLICT (singleton) DO UPDATE SET generation = EXCLUDED.generation, switched_at = now()")) {
      a.setString(1, generation);
      if (a.executeUpdate() != 1) {
        throw new IllegalStateException("generation " + generation + " is not registered");
      }
    }
  }

  /** The generation analysts see now, or null. */
  public static String active(Connection db) throws SQLException {
    try (PreparedStatement ps =
            db.prepareStatement("SELECT generation FROM tally.active_generation");
        ResultSet rs = ps.executeQuery()) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  /** Whether the generation is registered (it ran, or runs) or inherited another's rows. */
  public static boolean isRegistered(Connection db, String generation) throws SQLException {
    try (PreparedStatement ps =
        db.prepareStatement(
            "SELECT 1 FROM tally.generations WHERE generation = ?"
                + " UNION ALL SELECT 1 FROM tally.generation_inheritance WHERE generation = ?")) {
      ps.setString(1, generation);
      ps.setString(2, generation);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }
}
