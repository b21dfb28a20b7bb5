package dev.tally.capture;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * From an HTTP request as the SDKs send it to the JSON text of its payload (docs/capture.md,
 * "Decoding"). In order:
 *
 * <ol>
 *   <li>GET: the {@code data} query parameter. A form body ({@code
 *       application/x-www-form-urlencoded}, or a body that starts with {@code data=}): its {@code
 *       data} field, and its {@code compression} field if the query has none. Any other body: the
 *       body itself.
 *   <li>The compression: the query's {@code compression} ({@code gzip}, {@code gzip-js}, {@code
 *       lz64}, {@code base64}), else {@code Content-Encoding: gzip}; gzip also by its magic bytes
 *       whatever was declared, since posthog-js sends gzip as {@code text/plain} without saying so.
 *   <li>A form or query {@code data} that is not JSON after that is base64 (standard or URL-safe,
 *       padding optional), as posthog-js's {@code base64} and older snippets send it.
 * </ol>
 *
 * The result must be strict UTF-8 of at most {@code maxDecodedBytes}; anything else is a {@link
 * BadRequest} (400) or {@link PayloadTooLarge} (413).
 */
final class RequestDecoder {
  private RequestDecoder() {}

  /** A body that cannot be decoded: answered 400 with the reason. */
  static final class BadRequest extends Exception {
    BadRequest(String message) {
      super(message);
    }
  }

  static String decode(
      String method,
      Map<String, String> query,
      String contentType,
      String contentEncoding,
      byte[] body,
      int maxDecodedBytes)
      throws BadRequest, PayloadTooLarge {
    String compression = lower(query.get("compression"));
    byte[] data;
    boolean fromField;
    if ("GET".equals(method) || "HEAD".equals(method)) {
      String d = query.get("data");
      if (d == null) {
        throw new BadRequest("no data: a GET carries its events in the data query parameter");
      }
      data = d.getBytes(StandardCharsets.UTF_8);
      fromField = true;
    } else if (isForm(contentType, body)) {
      Map<String, String> form = parseForm(body);
      String d = form.get("data");
      if (d == null) {
        throw new BadRequest("no data field in the form body");
      }
      if (compression == null) {
        compression = lower(form.get("compression"));
      }
      data = d.getBytes(StandardCharsets.UTF_8);
      fromField = true;
    } else {
      data = body;
      fromField = false;
    }
    if (data.length == 0) {
      throw new BadRequest("empty body");
    }
    if (compression == null
        && contentEncoding != null
        && contentEncoding.toLowerCase(Locale.ROOT).contains("gzip")) {
      compression = "gzip";
    }
    byte[] decoded;
    if (isGzip(data)) {
      decoded = gunzip(data, maxDecodedBytes);
    } else if ("lz64".equals(compression) || "lz-string".equals(compression)) {
      String text = ascii(data);
      try {
        decoded =
            LzString.decompressFromBase64(text, maxDecodedBytes).getBytes(StandardCharsets.UTF_8);
      } catch (LzString.Malformed e) {
        throw new BadRequest("body is not lz64 (" + e.getMessage() + ")");
      }
    } else if ("gzip".equals(compression) || "gzip-js".equals(compression)) {
      // declared gzip without the magic bytes: perhaps base64 of gzip
      byte[] unwrapped = fromBase64(data);
      if (unwrapped != null && isGzip(unwrapped)) {
        decoded = gunzip(unwrapped, maxDecodedBytes);
      } else {
        throw new BadRequest("compression=" + compression + " but the body is not gzip");
      }
    } else if ("base64".equals(compression) || (fromField && !looksLikeJson(data))) {
      decoded = fromBase64(data);
      if (decoded == null) {
        throw new BadRequest("data is neither JSON nor base64");
      }
      if (isGzip(decoded)) {
        decoded = gunzip(decoded, maxDecodedBytes);
      }
    } else {
      decoded = data;
    }
    if (decoded.length > maxDecodedBytes) {
      throw new PayloadTooLarge("the payload is over " + maxDecodedBytes + " bytes");
    }
    return strictUtf8(decoded);
  }

  private static String lower(String s) {
    return s == null || s.isEmpty() ? null : s.toLowerCase(Locale.ROOT);
  }

  private static boolean isForm(String contentType, byte[] body) {
    if (contentType != null
        && contentType.toLowerCase(Locale.ROOT).startsWith("application/x-www-form-urlencoded")) {
      return true;
    }
    return body.length > 5
        && body[0] == 'd'
        && body[1] == 'a'
        && body[2] == 't'
        && body[3] == 'a'
        && body[4] == '=';
  }

  static Map<String, String> parseForm(byte[] body) throws BadRequest {
    Map<String, String> fields = new LinkedHashMap<>();
    String text = ascii(body);
    for (String pair : text.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String k = eq < 0 ? pair : pair.substring(0, eq);
      String v = eq < 0 ? "" : pair.substring(eq + 1);
      try {
        fields.put(
            URLDecoder.decode(k, StandardCharsets.UTF_8),
            URLDecoder.decode(v, StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        throw new BadRequest("form body has a bad %-escape");
      }
    }
    return fields;
  }

  private static String ascii(byte[] b) {
    return new String(b, StandardCharsets.ISO_8859_1);
  }

  static boolean isGzip(byte[] b) {
    return b.length >= 2 && (b[0] & 0xff) == 0x1f && (b[1] & 0xff) == 0x8b;
  }

  private static boolean looksLikeJson(byte[] b) {
    for (byte c : b) {
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        continue;
      }
      return c == '{' || c == '[';
    }
    return false;
  }

  /** Base64, standard or URL-safe, padding optional, whitespace ignored; null if it is not. */
  static byte[] fromBase64(byte[] data) {
    StringBuilder sb = new StringBuilder(data.length);
    for (byte c : data) {
      char ch = (char) (c & 0xff);
      if (ch == ' ') {
        sb.append('+'); // a '+' that a form decoder turned into a space
      } else if (ch == '-') {
        sb.append('+');
      } else if (ch == '_') {
        sb.append('/');
      } else if (ch != '\n' && ch != '\r' && ch != '\t' && ch != '=') {
        sb.append(ch);
      }
    }
    try {
      return Base64.getDecoder().decode(sb.toString());
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static byte[] gunzip(byte[] data, int max) throws BadRequest, PayloadTooLarge {
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(data))) {
      ByteArrayOutputStream out = new ByteArrayOutputStream(Math.min(max, data.length * 4 + 64));
      byte[] buf = new byte[8192];
      int n;
      while ((n = in.read(buf)) > 0) {
        if (out.size() + n > max) {
          throw new PayloadTooLarge("the body decompresses to more than " + max + " bytes");
        }
        out.write(buf, 0, n);
      }
      return out.toByteArray();
    } catch (IOException e) {
      throw new BadRequest("body is not valid gzip (" + e.getMessage() + ")");
    }
  }

  /** UTF-8 of decompressed text; a lone surrogate is refused, not turned into '?'. */
  private static byte[] strictUtf16(String s) throws BadRequest {
    try {
      java.nio.ByteBuffer b =
          StandardCharsets.UTF_8
              .newEncoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .encode(java.nio.CharBuffer.wrap(s));
      byte[] out = new byte[b.remaining()];
      b.get(out);
      return out;
    } catch (CharacterCodingException e) {
      throw new BadRequest("the lz64 payload holds a lone surrogate");
    }
  }

  private static String strictUtf8(byte[] b) throws BadRequest {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(b))
          .toString();
    } catch (CharacterCodingException e) {
      throw new BadRequest("payload is not valid UTF-8");
    }
  }
}
