package dev.tally.jobs.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;

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
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
      List<NewTopic> missing = new ArrayList<>();
      for (Map.Entry<String, Integer> t : topics.entrySet()) {
        if (!existing.contains(t.getKey())) {
          missing.add(new NewTopic(t.getKey(), t.getValue(), (short) 1));
        }
      }
      if (!missing.isEmpty()) {
        admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
      }
    }
  }
}
