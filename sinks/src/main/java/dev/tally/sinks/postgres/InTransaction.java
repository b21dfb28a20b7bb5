package dev.tally.sinks.postgres;

import java.sql.Connection;
import java.sql.SQLException;

/** Runs statements in one transaction on a connection, restoring its auto-commit after. */
final class InTransaction {
  private InTransaction() {}

  interface Work<T> {
    T run() throws SQLException;
  }

  /** Commits what {@code work} did, or rolls all of it back if it throws. */
  static <T> T run(Connection c, Work<T> work) throws SQLException {
    boolean autoCommit = c.getAutoCommit();
    c.setAutoCommit(false);
    try {
      T result = work.run();
      c.commit();
      return result;
    } catch (Throwable e) { // an Error too: the finally's auto-commit must not commit half of it
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(autoCommit);
    }
  }
}
