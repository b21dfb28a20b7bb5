package dev.tally.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class SubtaskLoadTest {

  @Test
  void shouldReadRecordsAndBusyTimePerSubtaskFromFlinksVertexDetails() throws Exception {
    // the shape of GET /jobs/:jobid/vertices/:vertexid (Flink 2.2), trimmed
    String details =
        """
        {"id":"5a87","name":"deduplicate -> (enrich with person)","parallelism":2,
         "subtasks":[
           {"subtask":0,"status":"RUNNING","metrics":{"read-records":247758,"accumulated-busy-time":13966,"accumulated-idle-time":1200}},
           {"subtask":1,"status":"RUNNING","metrics":{"read-records":49296,"accumulated-busy-time":4839}}]}
        """;

    var subtasks = SubtaskLoad.subtasks(new ObjectMapper().readTree(details));

    assertThat(subtasks)
        .containsExactly(
            new SubtaskLoad.Subtask(247_758, 13_966), new SubtaskLoad.Subtask(49_296, 4_839));
    assertThat(SubtaskLoad.describe(subtasks))
        .isEqualTo("247,758 / 49,296 records, busy 14.0 / 4.8 s");
  }

  @Test
  void shouldGiveTheBusiestSubtasksShareOfTheRecords() {
    assertThat(
            Bench.busiestShare(
                java.util.List.of(
                    new SubtaskLoad.Subtask(300, 1), new SubtaskLoad.Subtask(100, 1))))
        .isEqualTo(0.75);
    assertThat(Bench.busiestShare(java.util.List.of())).isNaN();
    assertThat(Bench.busiestShare(null)).isNaN();
  }
}
