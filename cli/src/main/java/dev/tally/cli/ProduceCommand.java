package dev.tally.cli;

import dev.tally.cli.demo.Topics;
import dev.tally.cli.demo.TrafficProducer;
import dev.tally.cli.traffic.JsonLinesToAvro;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.RecordMetadata;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(
    name = "produce",
    mixinStandardHelpOptions = true,
    description = {
      "Send a JSON Lines file (SEMANTICS.md §1) into the live stack's raw topic as Avro, so a",
      "suspicious file can be replayed live, not only through 'tally replay'. Lines Avro cannot",
      "carry as they are (not JSON, a null or non-string field, oversized) are sent as their own",
      "bytes and dead-lettered by the job with the original line. Exit 0 once Kafka acknowledged",
      "every record."
    })
public final class ProduceCommand implements Callable<Integer> {
  @Mixin StackOptions stackOptions;

  @Mixin RawTopicOptions kafka;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--input", required = true, paramLabel = "FILE", description = "JSON Lines file")
  Path input;

  @Override
  public Integer call() throws Exception {
    if (!Files.isRegularFile(input) || !Files.isReadable(input)) {
      throw new ParameterException(spec.commandLine(), "cannot read input file " + input);
    }
    String bootstrap = kafka.bootstrap(stackOptions);
    if (kafka.local()) {
      Topics.ensure(bootstrap, 2);
    }
    List<byte[]> lines = JsonLinesToAvro.lines(Files.readAllBytes(input));
    long avro = 0;
    long raw = 0;
    try (TrafficProducer producer = new TrafficProducer(bootstrap, kafka.topic)) {
      List<Future<RecordMetadata>> sent = new java.util.ArrayList<>();
      for (byte[] line : lines) {
        JsonLinesToAvro.Record r = JsonLinesToAvro.convert(line);
        sent.add(producer.send(r.key(), r.value()));
        if (r.avro()) {
          avro++;
        } else {
          raw++;
        }
      }
      for (Future<RecordMetadata> f : sent) {
        f.get(); // fails loudly if any record was not acknowledged
      }
    }
    System.out.printf(
        "sent %,d records to %s: %,d as Avro events, %,d as raw bytes (the job dead-letters those)%n",
        avro + raw, kafka.topic, avro, raw);
    return 0;
  }
}
