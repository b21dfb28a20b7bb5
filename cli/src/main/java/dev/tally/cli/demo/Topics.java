package dev.tally.cli.demo;

import java.util.Map;

/** Creates Tally's Kafka topics when they are missing. */
public final class Topics {
  public static final String RAW = "events_raw";
  public static final String ENRICHED = "events_enriched";
  public static final String DEAD_LETTER = "events_dead_letter";
  public static final String LATE = "events_late";

  private Topics() {}

  public static void ensure(String bootstrap, int partitions) throws Exception {
    ensure(bootstrap, Map.of(RAW, partitions, ENRICHED, partitions, DEAD_LETTER, 1, LATE, 1));
  }

  /** Creates the topics (name → partitions) that do not exist yet. */
  public static void ensure(String bootstrap, Map<String, Integer> topics) throws Exception {
    dev.tally.sinks.kafka.KafkaTopics.ensure(bootstrap, topics, (short) 1);
  }
}
