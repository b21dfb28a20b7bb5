package dev.tally.capture;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The capture process of the local stack and of the container image: {@code --port P
 * --bootstrap-servers B [--host H] [--topic T] [--token-file F] [--token TOKEN=PROJECT]...
 * [--local-tokens]}. No secrets are needed: a project token is public (it ships in web pages).
 */
public final class CaptureMain {
  private CaptureMain() {}

  /** What the arguments ask for. */
  public record Settings(
      String host,
      int port,
      String bootstrapServers,
      String topic,
      Path tokenFile,
      Map<String, String> tokens,
      boolean localTokens) {}

  /** The settings of the arguments, or IllegalArgumentException saying what is wrong. */
  public static Settings parse(String... args) {
    String host = "0.0.0.0";
    int port = 8000;
    String bootstrap = null;
    String topic = "events_raw";
    Path tokenFile = null;
    boolean local = false;
    Map<String, String> fixed = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.startsWith("--") && !"--local-tokens".equals(a) && i + 1 >= args.length) {
        throw new IllegalArgumentException(a + " needs a value");
      }
      switch (a) {
        case "--host" -> host = args[++i];
        case "--port" -> {
          try {
            port = Integer.parseInt(args[++i]);
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--port takes a number, got " + args[i]);
          }
        }
        case "--bootstrap-servers" -> bootstrap = args[++i];
        case "--topic" -> topic = args[++i];
        case "--token-file" -> tokenFile = Path.of(args[++i]);
        case "--local-tokens" -> local = true;
        case "--token" -> {
          String[] kv = args[++i].split("=", 2);
          if (kv.length != 2) {
            throw new IllegalArgumentException("--token takes TOKEN=PROJECT, got " + args[i]);
          }
          fixed.put(kv[0], kv[1]);
        }
        default -> throw new IllegalArgumentException("unknown argument " + a);
      }
    }
    if (bootstrap == null) {
      throw new IllegalArgumentException("--bootstrap-servers is required");
    }
    return new Settings(host, port, bootstrap, topic, tokenFile, fixed, local);
  }

  public static void main(String[] args) throws Exception {
    Settings s;
    TokenMap tokens;
    try {
      s = parse(args);
      tokens = new TokenMap(s.tokenFile(), s.tokens(), s.localTokens());
    } catch (java.io.IOException | IllegalArgumentException e) {
      System.err.println("capture: " + e.getMessage());
      System.exit(2);
      return;
    }
    KafkaEventSink sink = new KafkaEventSink(s.bootstrapServers(), s.topic());
    CaptureServer server = CaptureServer.start(s.host(), s.port(), tokens, sink);
    server.closeOnShutdown(sink::close);
    System.out.println(
        "capture listening on " + s.host() + ":" + server.port() + ", topic " + s.topic());
    server.join();
  }
}
