package dev.tally.operators.functions;

import dev.tally.operators.model.ValidEvent;
import dev.tally.operators.validation.EventValidator;
import java.nio.charset.StandardCharsets;

final class HarnessFixtures {
  private HarnessFixtures() {}

  static ValidEvent event(String uuid, String distinctId, String timestamp, String properties) {
    String line =
        "{\"uuid\":\""
            + uuid
            + "\",\"project\":\"acme\",\"event\":\"$pageview\",\"distinct_id\":\""
            + distinctId
            + "\",\"timestamp\":\""
            + timestamp
            + "\",\"properties\":"
            + properties
            + "}";
    ValidEvent e =
        EventValidator.parseJsonLine(line.getBytes(StandardCharsets.UTF_8), "test").valid;
    if (e == null) {
      throw new IllegalArgumentException("fixture is invalid: " + line);
    }
    return e;
  }

  static String uuid(int n) {
    return String.format("00000000-0000-4000-8000-%012d", n);
  }
}
