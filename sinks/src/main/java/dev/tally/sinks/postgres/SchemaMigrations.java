package dev.tally.sinks.postgres;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * Applies the migrations of {@code sql/migrations} (shipped on the classpath) with Flyway. Run as
 * the database owner, not as the job's writer login: the job only checks that they were applied.
 */
public final class SchemaMigrations {
  private SchemaMigrations() {}

  /** Migrates and returns the number of migrations applied now. */
  public static int migrate(String jdbcUrl, String user, String password) {
    MigrateResult result =
        Flyway.configure(SchemaMigrations.class.getClassLoader())
            .dataSource(jdbcUrl, user, password)
            .locations("classpath:db/migration/tally")
            .schemas("tally")
            .table("schema_history")
            .createSchemas(true)
            .load()
            .migrate();
    return result.migrationsExecuted;
  }
}
