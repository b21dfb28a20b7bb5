package dev.tally.jobs.replay;

import dev.tally.operators.model.PersonSnapshot;
import dev.tally.operators.model.Utf8Order;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * Writes the final state of every person to {@code persons.jsonl}, sorted by (project, person_id).
 */
public final class PersonsFileSink implements Sink<PersonSnapshot> {
  private final String file;

  public PersonsFileSink(Path file) {
    this.file = file.toString();
  }

  @Override
  public SinkWriter<PersonSnapshot> createWriter(WriterInitContext context) {
    Map<String, PersonSnapshot> latest = new LinkedHashMap<>();
    return new SinkWriter<>() {
      private boolean written;

      @Override
      public void write(PersonSnapshot p, Context ctx) {
        String key = p.project + '\u0000' + p.personId;
        if (p.removed) {
          latest.remove(key);
        } else {
          latest.put(key, p);
        }
      }

      @Override
      public void flush(boolean endOfInput) throws IOException {
        if (!endOfInput || written) {
          return;
        }
        written = true;
        List<PersonSnapshot> persons = new ArrayList<>(latest.values());
        persons.sort(
            Comparator.<PersonSnapshot, String>comparing(p -> p.project, Utf8Order.COMPARATOR)
                .thenComparing(p -> p.personId, Utf8Order.COMPARATOR));
        try (Writer w = Files.newBufferedWriter(Paths.get(file), StandardCharsets.UTF_8)) {
          for (PersonSnapshot p : persons) {
            w.write(p.toJson());
            w.write('\n');
          }
        }
      }

      @Override
      public void close() {}
    };
  }
}
