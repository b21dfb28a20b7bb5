package dev.tally.cli;

/** Turns exceptions into one line for the terminal; stack traces are for the log file. */
final class UserFacingErrors {
  /** A mistake of the user's (bad option, taken port, missing file): exit code 2. */
  static final class UsageError extends RuntimeException {
    UsageError(String message) {
      super(message, null, false, false);
    }
  }

  private UserFacingErrors() {}

  /** A generation name given as {@code option}, or a usage error naming the option. */
  static void requireGeneration(String option, String generation) {
    try {
      dev.tally.sinks.postgres.TransactionIds.validateName("generation", generation);
    } catch (IllegalArgumentException e) {
      throw new UsageError(option + ": " + e.getMessage());
    }
  }

  /** A jar file that exists, or a usage error. */
  static void requireJar(java.nio.file.Path jar) {
    if (!java.nio.file.Files.isRegularFile(jar)) {
      throw new UsageError("no such jar: " + jar);
    }
  }

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
