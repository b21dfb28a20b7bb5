package dev.tally.operators.json;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict, small JSON reader and compact writer with the properties Tally's contract needs and
 * general-purpose libraries don't give together: numbers keep their literal text, objects keep key
 * order (a repeated key keeps its first position and takes the last value), lone surrogate escapes
 * and NaN/Infinity are rejected, and output leaves non-ASCII characters unescaped.
 *
 * <p>Values are {@link Map} (a {@link LinkedHashMap}), {@link List}, {@link String}, {@link
 * JsonNumber}, {@link Boolean} and {@link #NULL}.
 */
public final class Json {
  /** The JSON {@code null} value (Java null never appears inside parsed values). */
  public static final Object NULL = JsonNull.INSTANCE;

  private enum JsonNull {
    INSTANCE
  }

  private final String text;
  private int pos;

  private Json(String text) {
    this.text = text;
  }

  /** Parses exactly one JSON value surrounded by optional whitespace. */
  public static Object parse(String text) throws JsonException {
    Json p = new Json(text);
    p.skipWhitespace();
    Object value = p.readValue(0);
    p.skipWhitespace();
    if (p.pos != text.length()) {
      throw new JsonException("trailing characters at offset " + p.pos);
    }
    return value;
  }

  /** Parses text that must be a JSON object. */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> parseObject(String text) throws JsonException {
    Object value = parse(text);
    if (!(value instanceof Map)) {
      throw new JsonException("not a JSON object");
    }
    return (Map<String, Object>) value;
  }

  /** Like {@link #parseObject} for text Tally wrote itself; a failure is a bug, not bad input. */
  public static Map<String, Object> parseTrustedObject(String text) {
    try {
      return parseObject(text);
    } catch (JsonException e) {
      throw new IllegalStateException("internal JSON is invalid: " + e.getMessage(), e);
    }
  }

  private static final int MAX_DEPTH = 512;

  private Object readValue(int depth) throws JsonException {
    if (depth > MAX_DEPTH) {
      throw new JsonException("nesting deeper than " + MAX_DEPTH);
    }
    if (pos >= text.length()) {
      throw new JsonException("unexpected end of input");
    }
    char c = text.charAt(pos);
    switch (c) {
      case '{':
        return readObject(depth);
      case '[':
        return readArray(depth);
      case '"':
        return readString();
      case 't':
        expectWord("true");
        return Boolean.TRUE;
      case 'f':
        expectWord("false");
        return Boolean.FALSE;
      case 'n':
        expectWord("null");
        return NULL;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) {
          return readNumber();
        }
        throw new JsonException("unexpected character at offset " + pos);
    }
  }

  private Map<String, Object> readObject(int depth) throws JsonException {
    pos++; // {
    Map<String, Object> map = new LinkedHashMap<>();
    skipWhitespace();
    if (peek() == '}') {
      pos++;
      return map;
    }
    while (true) {
      skipWhitespace();
      if (peek() != '"') {
        throw new JsonException("expected a string key at offset " + pos);
      }
      String key = readString();
      skipWhitespace();
      expect(':');
      skipWhitespace();
      Object value = readValue(depth + 1);
      map.put(key, value); // a repeated key keeps its first position, the last value wins
      skipWhitespace();
      char c = next();
      if (c == '}') {
        return map;
      }
      if (c != ',') {
        throw new JsonException("expected ',' or '}' at offset " + (pos - 1));
      }
    }
  }

  private List<Object> readArray(int depth) throws JsonException {
    pos++; // [
    List<Object> list = new ArrayList<>();
    skipWhitespace();
    if (peek() == ']') {
      pos++;
      return list;
    }
    while (true) {
      skipWhitespace();
      list.add(readValue(depth + 1));
      skipWhitespace();
      char c = next();
      if (c == ']') {
        return list;
      }
      if (c != ',') {
        throw new JsonException("expected ',' or ']' at offset " + (pos - 1));
      }
    }
  }

  private String readString() throws JsonException {
    pos++; // opening quote
    StringBuilder sb = null;
    int start = pos;
    while (true) {
      if (pos >= text.length()) {
        throw new JsonException("unterminated string");
      }
      char c = text.charAt(pos);
      if (c == '"') {
        String s = sb == null ? text.substring(start, pos) : sb.append(text, start, pos).toString();
        pos++;
        return s;
      }
      if (c < 0x20) {
        throw new JsonException("control character in string at offset " + pos);
      }
      if (Character.isSurrogate(c)) {
        // Text decoded from strict UTF-8 has only paired surrogates; check anyway.
        if (Character.isHighSurrogate(c)
            && pos + 1 < text.length()
            && Character.isLowSurrogate(text.charAt(pos + 1))) {
          pos += 2;
          continue;
        }
        throw new JsonException("lone surrogate at offset " + pos);
      }
      if (c != '\\') {
        pos++;
        continue;
      }
      if (sb == null) {
        sb = new StringBuilder();
      }
      sb.append(text, start, pos);
      pos++;
      char e = next();
      switch (e) {
        case '"' -> sb.append('"');
        case '\\' -> sb.append('\\');
        case '/' -> sb.append('/');
        case 'b' -> sb.append('\b');
        case 'f' -> sb.append('\f');
        case 'n' -> sb.append('\n');
        case 'r' -> sb.append('\r');
        case 't' -> sb.append('\t');
        case 'u' -> {
          char u = readHex4();
          if (Character.isHighSurrogate(u)) {
            if (pos + 1 < text.length()
                && text.charAt(pos) == '\\'
                && text.charAt(pos + 1) == 'u') {
              pos += 2;
              char low = readHex4();
              if (!Character.isLowSurrogate(low)) {
                throw new JsonException("lone surrogate escape at offset " + pos);
              }
              sb.append(u).append(low);
            } else {
              throw new JsonException("lone surrogate escape at offset " + pos);
            }
          } else if (Character.isLowSurrogate(u)) {
            throw new JsonException("lone surrogate escape at offset " + pos);
          } else {
            sb.append(u);
          }
        }
        default -> throw new JsonException("invalid escape at offset " + (pos - 1));
      }
      start = pos;
    }
  }

  private char readHex4() throws JsonException {
    if (pos + 4 > text.length()) {
      throw new JsonException("truncated \\u escape");
    }
    int v = 0;
    for (int i = 0; i < 4; i++) {
      int d = Character.digit(text.charAt(pos + i), 16);
      if (d < 0 || text.charAt(pos + i) > 'f') {
        throw new JsonException("invalid \\u escape at offset " + pos);
      }
      v = v * 16 + d;
    }
    pos += 4;
    return (char) v;
  }

  private JsonNumber readNumber() throws JsonException {
    int start = pos;
    if (peek() == '-') {
      pos++;
    }
    if (peek() == '0') {
      pos++;
    } else if (isDigit(peek())) {
      while (isDigit(peek())) {
        pos++;
      }
    } else {
      throw new JsonException("invalid number at offset " + start);
    }
    if (peek() == '.') {
      pos++;
      if (!isDigit(peek())) {
        throw new JsonException("invalid number at offset " + start);
      }
      while (isDigit(peek())) {
        pos++;
      }
    }
    if (peek() == 'e' || peek() == 'E') {
      pos++;
      if (peek() == '+' || peek() == '-') {
        pos++;
      }
      if (!isDigit(peek())) {
        throw new JsonException("invalid number at offset " + start);
      }
      while (isDigit(peek())) {
        pos++;
      }
    }
    return new JsonNumber(text.substring(start, pos));
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private void expectWord(String word) throws JsonException {
    if (!text.startsWith(word, pos)) {
      throw new JsonException("unexpected literal at offset " + pos);
    }
    pos += word.length();
  }

  private void expect(char c) throws JsonException {
    if (next() != c) {
      throw new JsonException("expected '" + c + "' at offset " + (pos - 1));
    }
  }

  private char peek() {
    return pos < text.length() ? text.charAt(pos) : '\0';
  }

  private char next() throws JsonException {
    if (pos >= text.length()) {
      throw new JsonException("unexpected end of input");
    }
    return text.charAt(pos++);
  }

  private void skipWhitespace() {
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        pos++;
      } else {
        return;
      }
    }
  }

  // ---------------------------------------------------------------- writing

  /** Compact JSON: no whitespace, keys in map order, non-ASCII characters unescaped. */
  public static String write(Object value) {
    StringBuilder sb = new StringBuilder();
    write(value, sb);
    return sb.toString();
  }

  public static void write(Object value, StringBuilder sb) {
    if (value == null || value == NULL) {
      sb.append("null");
    } else if (value instanceof String s) {
      writeString(s, sb);
    } else if (value instanceof JsonNumber n) {
      sb.append(n.literal());
    } else if (value instanceof Boolean b) {
      sb.append(b ? "true" : "false");
    } else if (value instanceof Map<?, ?> map) {
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : map.entrySet()) {
        if (!first) {
          sb.append(',');
        }
        first = false;
        writeString((String) e.getKey(), sb);
        sb.append(':');
        write(e.getValue(), sb);
      }
      sb.append('}');
    } else if (value instanceof List<?> list) {
      sb.append('[');
      for (int i = 0; i < list.size(); i++) {
        if (i > 0) {
          sb.append(',');
        }
        write(list.get(i), sb);
      }
      sb.append(']');
    } else if (value instanceof Number n) {
      sb.append(n);
    } else {
      throw new IllegalArgumentException("not a JSON value: " + value.getClass());
    }
  }

  public static void writeString(String s, StringBuilder sb) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        case '\b' -> sb.append("\\b");
        case '\f' -> sb.append("\\f");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }

  public static String quote(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 2);
    writeString(s, sb);
    return sb.toString();
  }
}
