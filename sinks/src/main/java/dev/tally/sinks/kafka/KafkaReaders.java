package dev.tally.sinks.kafka;

import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Consumers that only look: Tally's tools read its transactional topics {@code read_committed}
 * (what a downstream reader sees), with no consumer group and nothing committed.
 */
public final class KafkaReaders {
  private KafkaReaders() {}

  /** The settings of a look-only {@code read_committed} reader; callers may add their own. */
  public static Properties readCommitted(String bootstrapServers) {
    Properties p = new Properties();
    p.setProperty(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.setProperty(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.setProperty(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    return p;
  }

  public static KafkaConsumer<byte[], byte[]> consumer(Properties settings) {
    return new KafkaConsumer<>(settings, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }
}
