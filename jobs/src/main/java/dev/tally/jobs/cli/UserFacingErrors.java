package dev.tally.jobs.cli;

/** Turns exceptions into one line for the terminal; stack traces are for the log file. */
final class UserFacingErrors {
  /** A mistake of the user's (bad option, taken port, missing file): exit code 2. */
  static final class UsageError extends RuntimeException {
    UsageError(String message) {
      super(message, null, false, false);
    }
  }

  private UserFacingErrors() {}

  static String describe(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String top = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    if (root == t || root.getMessage() == null) {
      return top;
    }
    return top + " (cause: " + root.getMessage() + ")";
  }
}
