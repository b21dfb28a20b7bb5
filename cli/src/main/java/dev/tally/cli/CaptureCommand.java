package dev.tally.cli;

import dev.tally.capture.CaptureServer;
import dev.tally.capture.KafkaEventSink;
import dev.tally.capture.TokenMap;
import dev.tally.cli.demo.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "capture",
    mixinStandardHelpOptions = true,
    description = {
      "Run the PostHog-compatible capture endpoint in the foreground (the local stack runs one",
      "already: './tally stack status' prints its address). PostHog SDKs send to it as to",
      "PostHog (api_host); a request is answered 200 only once Kafka has every event of it,",
      "503 when Kafka cannot take them (the SDK sends again). See docs/capture.md."
    })
public final class CaptureCommand implements Callable<Integer> {
  @Mixin StackOptions stackOptions;

  @Mixin RawTopicOptions kafka;

  @Option(
      names = "--listen",
      paramLabel = "PORT",
      defaultValue = "8000",
      description = "port to listen on (default ${DEFAULT-VALUE})")
  int port;

  @Option(
      names = "--host",
      paramLabel = "ADDRESS",
      defaultValue = "localhost",
      description = "address to listen on (default ${DEFAULT-VALUE}; 0.0.0.0 for all)")
  String host;

  @Option(
      names = "--token-file",
      paramLabel = "FILE",
      description = "TOKEN=PROJECT lines (read again when the file changes)")
  Path tokenFile;

  @Option(
      names = "--token",
      paramLabel = "TOKEN=PROJECT",
      description = "a token mapping (repeatable)")
  Map<String, String> tokens = new LinkedHashMap<>();

  @Option(
      names = "--local-tokens",
      description = "map phc_local_<project> to <project> (on by default against the local stack)")
  boolean localTokens;

  @Override
  public Integer call() throws Exception {
    if (tokenFile != null && !Files.isReadable(tokenFile)) {
      throw new UserFacingErrors.UsageError("cannot read the token file " + tokenFile);
    }
    boolean local = kafka.local(); // the local stack's Kafka: its phc_local_<project> tokens too
    String bootstrap = kafka.bootstrap(stackOptions);
    TokenMap map;
    try {
      map = new TokenMap(tokenFile, tokens, localTokens || local);
    } catch (IllegalArgumentException e) {
      throw new UserFacingErrors.UsageError(e.getMessage());
    }
    if (local) {
      Topics.ensure(bootstrap, 2);
    }
    KafkaEventSink sink = new KafkaEventSink(bootstrap, kafka.topic);
    CaptureServer server;
    try {
      server = CaptureServer.start(host, port, map, sink);
    } catch (java.io.IOException e) {
      sink.close();
      throw new UserFacingErrors.UsageError(
          "cannot listen on " + host + ":" + port + " (" + e.getMessage() + "); choose --listen");
    }
    CountDownLatch stopped = new CountDownLatch(1);
    server.closeOnShutdown(
        () -> {
          sink.close();
          stopped.countDown();
        });
    System.out.println("capture  http://" + host + ":" + server.port());
    System.out.println(
        "  topic "
            + kafka.topic
            + " on "
            + bootstrap
            + (local || localTokens ? "; phc_local_<project> tokens on" : ""));
    System.out.println("  Ctrl-C stops it");
    server.join();
    stopped.await();
    return 0;
  }
}
