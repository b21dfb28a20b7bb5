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

  public static void main(String[] args) throws Exception {
    String host = "0.0.0.0";
    int port = 8000;
    String bootstrap = null;
    String topic = "events_raw";
    Path tokenFile = null;
    boolean local = false;
    Map<String, String> fixed = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--host" -> host = args[++i];
        case "--port" -> port = Integer.parseInt(args[++i]);
        case "--bootstrap-servers" -> bootstrap = args[++i];
        case "--topic" -> topic = args[++i];
        case "--token-file" -> tokenFile = Path.of(args[++i]);
        case "--local-tokens" -> local = true;
        case "--token" -> {
          String[] kv = args[++i].split("=", 2);
          if (kv.length != 2) {
            fail("--token takes TOKEN=PROJECT, got " + args[i]);
          }
          fixed.put(kv[0], kv[1]);
        }
        default -> fail("unknown argument " + a);
      }
    }
    if (bootstrap == null) {
      fail("--bootstrap-servers is required");
    }
    TokenMap tokens;
    try {
      tokens = new TokenMap(tokenFile, fixed, local);
    } catch (java.io.IOException | IllegalArgumentException e) {
      fail("cannot read the token mappings: " + e.getMessage());
      return;
    }
    KafkaEventSink sink = new KafkaEventSink(bootstrap, topic);
    CaptureServer server = CaptureServer.start(host, port, tokens, sink);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    server.close();
                  } catch (Exception ignored) {
                    // stopping anyway
                  }
                  sink.close();
                }));
    System.out.println("capture listening on " + host + ":" + server.port() + ", topic " + topic);
    server.join();
  }

  private static void fail(String message) {
    System.err.println("capture: " + message);
    System.exit(2);
  }
}
