package dev.tally.cli;

import dev.tally.cli.demo.Topics;
import picocli.CommandLine.Option;

/** Where commands that write raw events send them: a Kafka and its raw topic. */
final class RawTopicOptions {
  @Option(
      names = "--bootstrap-servers",
      paramLabel = "HOSTS",
      description = "Kafka (default: the local stack's)")
  String bootstrapServers;

  @Option(
      names = "--topic",
      defaultValue = Topics.RAW,
      paramLabel = "T",
      description = "raw topic (default ${DEFAULT-VALUE})")
  String topic;

  /** True when no Kafka was named: the local stack's. */
  boolean local() {
    return bootstrapServers == null;
  }

  /** The Kafka named, else the local stack's. */
  String bootstrap(StackOptions stack) throws java.io.IOException {
    return local() ? stack.existingLayout().kafkaBootstrap() : bootstrapServers;
  }
}
