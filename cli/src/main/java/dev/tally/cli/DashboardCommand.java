package dev.tally.cli;

import dev.tally.cli.dashboard.DashboardServer;
import dev.tally.cli.demo.Topics;
import dev.tally.cli.stack.LocalStack;
import dev.tally.cli.stack.StackLayout;
import java.net.BindException;
import java.sql.Connection;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "dashboard",
    mixinStandardHelpOptions = true,
    description = {
      "Serve the live dashboard page and its JSON endpoints (docs/dashboard.md) until Ctrl-C:",
      "events and distinct persons per minute marked open / complete / final, the freshness",
      "against the wall clock, the ledger per hour and the newest dead letters. Reads as the",
      "read-only analyst login; listens on 127.0.0.1 only."
    })
public final class DashboardCommand implements Callable<Integer> {
  /** The port the demo and this command use unless told otherwise. */
  public static final int DEFAULT_PORT = 18090;

  @Mixin StackOptions stackOptions;

  @Option(
      names = "--port",
      paramLabel = "PORT",
      defaultValue = "" + DEFAULT_PORT,
      description = "port on 127.0.0.1 (default ${DEFAULT-VALUE}; 0: any free port)")
  int port;

  @Mixin DatabaseOptions database;

  @Option(
      names = "--user",
      paramLabel = "USER",
      defaultValue = StackLayout.ANALYST_USER,
      description =
          "login for --jdbc-url, a member of the read-only role tally_analyst (default ${DEFAULT-VALUE})")
  String user;

  @Option(
      names = "--bootstrap-servers",
      paramLabel = "HOSTS",
      description =
          "Kafka to read the newest dead letters from (default: the local stack's; with --jdbc-url"
              + " and without this option the page shows only their number per hour)")
  String bootstrapServers;

  @Option(names = "--dead-letter-topic", defaultValue = Topics.DEAD_LETTER, paramLabel = "T")
  String deadLetterTopic;

  @Override
  public Integer call() throws Exception {
    if (port < 0 || port > 65535) {
      throw new UserFacingErrors.UsageError("--port must be from 0 to 65535");
    }
    Callable<Connection> analyst;
    String kafka = bootstrapServers;
    if (!database.given()) {
      LocalStack stack = stackOptions.existingStack();
      analyst = stack::analyst;
      if (kafka == null) {
        kafka = stack.layout().kafkaBootstrap();
      }
    } else {
      analyst = () -> database.connect(user);
    }
    try (Connection c = analyst.call()) {
      c.isValid(5); // a wrong login fails here, in one line, not on the first page load
    }
    DashboardServer server;
    try {
      server =
          DashboardServer.start(
              analyst,
              kafka == null ? null : new DashboardServer.Kafka(kafka, deadLetterTopic),
              port);
    } catch (BindException e) {
      throw new UserFacingErrors.UsageError(
          "port " + port + " is taken: choose another with --port");
    }
    System.out.println("dashboard  " + server.url());
    System.out.println("Ctrl-C to stop");
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.close();
                  stopped.countDown();
                }));
    stopped.await();
    return 0;
  }
}
