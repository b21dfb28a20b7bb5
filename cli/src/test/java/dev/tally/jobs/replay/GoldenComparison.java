package dev.tally.jobs.replay;

import dev.tally.operators.json.Json;
import dev.tally.operators.json.JsonException;
import dev.tally.operators.json.JsonNumber;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Compares replay output with golden files the way shared/tools/compare.py (the acceptance check)
 * does: CSV bytes after CRLF→LF, JSON Lines as type-strict JSON values in order, dead letters as a
 * multiset of (reason, payload).
 */
final class GoldenComparison {
  private GoldenComparison() {}

  /** Returns one line per mismatching file; empty when everything matches. */
  static List<String> compare(Path expectedDir, Path actualDir) throws IOException {
    List<String> problems = new ArrayList<>();
    try (var files = Files.list(expectedDir)) {
      for (Path expected : files.sorted().toList()) {
        String name = expected.getFileName().toString();
        Path actual = actualDir.resolve(name);
        if (!Files.isRegularFile(actual)) {
          problems.add(name + ": missing");
          continue;
        }
        String problem =
            name.endsWith(".csv")
                ? compareCsv(expected, actual)
                : name.equals("dead_letter.jsonl")
                    ? compareMultiset(expected, actual)
                    : compareOrdered(expected, actual);
        if (problem != null) {
          problems.add(name + ": " + problem);
        }
      }
    }
    return problems;
  }

  private static String compareCsv(Path expected, Path actual) throws IOException {
    String e = normalize(Files.readString(expected, StandardCharsets.UTF_8));
    String a = normalize(Files.readString(actual, StandardCharsets.UTF_8));
    if (e.equals(a)) {
      return null;
    }
    String[] el = e.split("\n", -1);
    String[] al = a.split("\n", -1);
    for (int i = 0; i < Math.min(el.length, al.length); i++) {
      if (!el[i].equals(al[i])) {
        return "line " + (i + 1) + "\n  expected: " + el[i] + "\n  actual:   " + al[i];
      }
    }
    return el.length + " lines expected, " + al.length + " actual";
  }

  private static String normalize(String s) {
    return s.replace("\r\n", "\n").replace('\r', '\n');
  }

  private static String compareOrdered(Path expected, Path actual) throws IOException {
    List<Object> e = readJsonLines(expected);
    List<Object> a = readJsonLines(actual);
    for (int i = 0; i < Math.min(e.size(), a.size()); i++) {
      if (!jsonEquals(e.get(i), a.get(i))) {
        return "object "
            + (i + 1)
            + "\n  expected: "
            + Json.write(e.get(i))
            + "\n  actual:   "
            + Json.write(a.get(i));
      }
    }
    return e.size() == a.size() ? null : e.size() + " objects expected, " + a.size() + " actual";
  }

  private static String compareMultiset(Path expected, Path actual) throws IOException {
    Map<String, Integer> counts = new HashMap<>();
    for (Object o : readJsonLines(expected)) {
      counts.merge(deadLetterKey(o), 1, Integer::sum);
    }
    for (Object o : readJsonLines(actual)) {
      counts.merge(deadLetterKey(o), -1, Integer::sum);
    }
    List<String> diffs = new ArrayList<>();
    counts.forEach(
        (k, n) -> {
          if (n != 0) {
            diffs.add((n > 0 ? "missing " : "unexpected ") + k);
          }
        });
    return diffs.isEmpty() ? null : String.join("\n  ", diffs);
  }

  private static String deadLetterKey(Object o) {
    Map<?, ?> m = (Map<?, ?>) o;
    return Json.write(m.get("reason")) + " " + Json.write(m.get("payload"));
  }

  private static List<Object> readJsonLines(Path file) throws IOException {
    List<Object> values = new ArrayList<>();
    for (String line : Files.readString(file, StandardCharsets.UTF_8).split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      try {
        values.add(Json.parse(line));
      } catch (JsonException e) {
        throw new IOException(file + " has a line that is not JSON: " + e.getMessage());
      }
    }
    return values;
  }

  /** Type-strict JSON equality: 1 ≠ 1.0, objects compare regardless of key order. */
  static boolean jsonEquals(Object a, Object b) {
    if (a instanceof JsonNumber x && b instanceof JsonNumber y) {
      boolean xi = isInteger(x.literal());
      boolean yi = isInteger(y.literal());
      return xi == yi && new BigDecimal(x.literal()).compareTo(new BigDecimal(y.literal())) == 0;
    }
    if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
      if (!x.keySet().equals(y.keySet())) {
        return false;
      }
      for (Object k : x.keySet()) {
        if (!jsonEquals(x.get(k), y.get(k))) {
          return false;
        }
      }
      return true;
    }
    if (a instanceof List<?> x && b instanceof List<?> y) {
      if (x.size() != y.size()) {
        return false;
      }
      for (int i = 0; i < x.size(); i++) {
        if (!jsonEquals(x.get(i), y.get(i))) {
          return false;
        }
      }
      return true;
    }
    return Objects.equals(a, b);
  }

  private static boolean isInteger(String literal) {
    return literal.indexOf('.') < 0 && literal.indexOf('e') < 0 && literal.indexOf('E') < 0;
  }
}
