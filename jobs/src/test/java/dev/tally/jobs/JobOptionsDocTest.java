package dev.tally.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * docs/operations.md lists every job option exactly as its definition says. After changing an
 * option: {@code ./mvnw -pl jobs test -Dtest=JobOptionsDocTest -Dtally.docs.write=true}.
 */
class JobOptionsDocTest {
  private static final Path DOC = Path.of("..", "docs", "operations.md");

  @Test
  void theOptionsTableInTheOperationsGuideIsGeneratedFromTheDefinitions() throws Exception {
    String doc = Files.readString(DOC, StandardCharsets.UTF_8);
    int begin = doc.indexOf(JobOptionsDoc.BEGIN);
    int end = doc.indexOf(JobOptionsDoc.END);
    assertThat(begin).as("the generated table's markers in " + DOC).isNotNegative();
    assertThat(end).isGreaterThan(begin);
    String current = doc.substring(begin, end + JobOptionsDoc.END.length());
    String generated = JobOptionsDoc.table();
    if (Boolean.getBoolean("tally.docs.write") && !current.equals(generated)) {
      Files.writeString(DOC, doc.replace(current, generated), StandardCharsets.UTF_8);
      current = generated;
    }
    assertThat(current)
        .as(
            "docs/operations.md's options table; regenerate: ./mvnw -pl jobs test"
                + " -Dtest=JobOptionsDocTest -Dtally.docs.write=true")
        .isEqualTo(generated);
    for (String key : new String[] {"tally.generation", "tally.persons.layout", "tally.rocksdb."}) {
      assertThat(generated).contains("`" + key);
    }
  }
}
