package dev.tally.capture;

import dev.tally.operators.validation.EventValidator;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.LongSupplier;

/**
 * Which Tally project a PostHog project token (the SDK's API key) writes to. Mappings come from a
 * token file ({@code TOKEN=PROJECT} lines, Java properties syntax) and from fixed ones given at
 * start; on the local stack, {@code phc_local_<project>} also maps to {@code <project>} for any
 * valid project name unless a mapping says otherwise. The file is read again when it changes
 * (looked at most once a second), so a token can be added without a restart.
 */
public final class TokenMap {
  public static final String LOCAL_PREFIX = "phc_local_";

  private final Path file;
  private final Map<String, String> fixed;
  private final boolean localRule;
  private final LongSupplier clockMillis;

  private volatile Map<String, String> fromFile = Map.of();
  private volatile FileTime fileTime;
  private volatile long lastLook = Long.MIN_VALUE;

  /**
   * @param file the token file, or null
   * @param fixed mappings that are always in force (a file's line for the same token wins)
   * @param localRule whether {@code phc_local_<project>} maps to {@code <project>}
   */
  public TokenMap(Path file, Map<String, String> fixed, boolean localRule) throws IOException {
    this(file, fixed, localRule, System::currentTimeMillis);
  }

  TokenMap(Path file, Map<String, String> fixed, boolean localRule, LongSupplier clockMillis)
      throws IOException {
    this.file = file;
    this.localRule = localRule;
    this.clockMillis = clockMillis;
    requireMappings(fixed, "a --token/--capture-token mapping");
    this.fixed = Map.copyOf(fixed);
    if (file != null) {
      fromFile = read(file); // a broken file at start is an error the operator sees at once
      fileTime = Files.getLastModifiedTime(file);
      lastLook = clockMillis.getAsLong();
    }
  }

  /** The project of a token, or empty for a token nobody mapped. */
  public Optional<String> project(String token) {
    if (token == null || token.isEmpty()) {
      return Optional.empty();
    }
    String p = currentFile().get(token);
    if (p == null) {
      p = fixed.get(token);
    }
    if (p == null && localRule && token.startsWith(LOCAL_PREFIX)) {
      String candidate = token.substring(LOCAL_PREFIX.length());
      if (EventValidator.isProject(candidate)) {
        p = candidate;
      }
    }
    return Optional.ofNullable(p);
  }

  private Map<String, String> currentFile() {
    if (file == null) {
      return fromFile;
    }
    long now = clockMillis.getAsLong();
    if (now - lastLook >= 1000) {
      lastLook = now;
      try {
        FileTime t = Files.getLastModifiedTime(file);
        if (!t.equals(fileTime)) {
          fromFile = read(file);
          fileTime = t;
        }
      } catch (IOException | IllegalArgumentException e) {
        // keep serving the last good mappings, and say why once per change of reason
        if (!e.getMessage().equals(lastError)) {
          org.slf4j.LoggerFactory.getLogger(TokenMap.class)
              .warn(
                  "capture: token file {} not reloaded, keeping the last good one: {}",
                  file,
                  e.getMessage());
        }
        lastError = e.getMessage();
      }
    }
    return fromFile;
  }

  private volatile String lastError;

  /** Why the last reload of the token file failed, or null. */
  public String lastError() {
    return lastError;
  }

  static Map<String, String> read(Path file) throws IOException {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(r);
    }
    Map<String, String> m = new HashMap<>();
    for (String token : p.stringPropertyNames()) {
      String project = p.getProperty(token).strip();
      requireProject(token, project, file.toString());
      m.put(token, project);
    }
    return Map.copyOf(m);
  }

  /** Every mapping names a token and a valid project, or IllegalArgumentException says which. */
  public static void requireMappings(Map<String, String> mappings, String where) {
    mappings.forEach((token, project) -> requireProject(token, project, where));
  }

  private static void requireProject(String token, String project, String where) {
    if (token.isBlank() || !EventValidator.isProject(project)) {
      throw new IllegalArgumentException(
          where
              + ": token '"
              + token
              + "' maps to '"
              + project
              + "', which is not a project name ([A-Za-z0-9][A-Za-z0-9_-]{0,63})");
    }
  }
}
