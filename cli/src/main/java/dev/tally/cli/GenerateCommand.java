package dev.tally.cli;

import dev.tally.cli.demo.Topics;
import dev.tally.cli.demo.TrafficProducer;
import dev.tally.cli.traffic.GeneratedEvent;
import dev.tally.cli.traffic.TrafficGenerator;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    description = "Send synthetic, realistic traffic (Avro) to the local stack's events_raw topic.")
public final class GenerateCommand implements Callable<Integer> {
  @Mixin StackOptions stackOptions;

  @Option(
      names = "--rate",
      paramLabel = "R",
      defaultValue = "200",
      description = "events per second (default ${DEFAULT-VALUE})")
  double rate;

  @Option(
      names = "--events",
      paramLabel = "N",
      required = true,
      description = "how many events to send")
  long events;

  @Option(
      names = "--seed",
      paramLabel = "S",
      defaultValue = "1",
      description = "random seed (default ${DEFAULT-VALUE})")
  long seed;

  @Override
  public Integer call() throws Exception {
    if (rate <= 0 || events <= 0) {
      throw new UserFacingErrors.UsageError("--rate and --events must be positive");
    }
    String bootstrap = stackOptions.existingLayout().kafkaBootstrap();
    Topics.ensure(bootstrap, 2);
    try (TrafficProducer producer = new TrafficProducer(bootstrap)) {
      producer.sendAll(
          new TrafficGenerator(seed, Instant.now(), rate, 500),
          events,
          rate,
          new AtomicBoolean(),
          System.out);
      System.out.printf(
          "sent %,d events: %,d valid, %,d duplicates, %,d invalid%n",
          producer.total(),
          producer.sent(GeneratedEvent.Kind.VALID),
          producer.sent(GeneratedEvent.Kind.DUPLICATE),
          producer.sent(GeneratedEvent.Kind.INVALID));
    }
    return 0;
  }
}
