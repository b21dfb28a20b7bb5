package dev.tally.savepoints;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class HttpFlinkRestTest {

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

    assertThat(HttpFlinkRest.subtasks(new ObjectMapper().readTree(details)))
        .containsExactly(
            new FlinkRest.SubtaskLoad(247_758, 13_966), new FlinkRest.SubtaskLoad(49_296, 4_839));
  }
}
