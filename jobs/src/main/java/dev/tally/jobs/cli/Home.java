package dev.tally.jobs.cli;

import java.nio.file.Path;

/** The project folder the launcher runs from ({@code -Dtally.home}, set by ./tally). */
public final class Home {
  private Home() {}

  public static Path path() {
    return StackOptions.home();
  }
}
