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
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
      List<NewTopic> missing = new ArrayList<>();
      for (String t : List.of(RAW, ENRICHED, DEAD_LETTER, LATE)) {
        if (!existing.contains(t)) {
          missing.add(
              new NewTopic(t, t.equals(RAW) || t.equals(ENRICHED) ? partitions : 1, (short) 1));
        }
      }
      if (!missing.isEmpty()) {
        admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
      }
    }
  }
}
