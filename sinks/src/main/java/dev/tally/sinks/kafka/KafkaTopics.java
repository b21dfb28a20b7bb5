package dev.tally.sinks.kafka;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

/** Creates Kafka topics that do not exist yet (the local stack's, the persons loop). */
public final class KafkaTopics {
  private KafkaTopics() {}

  /**
   * Creates the topics (name → partitions) that do not exist yet; one created meanwhile by someone
   * else is fine.
   *
   * @param replication the replication factor, or -1 for the broker's default
   */
  public static void ensure(String bootstrap, Map<String, Integer> topics, short replication)
      throws Exception {
    try (Admin admin =
        Admin.create(
            Map.<String, Object>of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
      List<NewTopic> missing = new ArrayList<>();
      for (Map.Entry<String, Integer> t : topics.entrySet()) {
        if (!existing.contains(t.getKey())) {
          missing.add(new NewTopic(t.getKey(), t.getValue(), replication));
        }
      }
      if (!missing.isEmpty()) {
        try {
          admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw e;
          }
        }
      }
    }
  }
}
