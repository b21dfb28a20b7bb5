package dev.tally.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.avro.PersonState;
import dev.tally.savepoints.JobSubmission;
import dev.tally.savepoints.PersonsSavepoint;
import dev.tally.savepoints.upgrade.UpgradeCheck;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.OperatorTransformation;
import org.apache.flink.state.api.SavepointWriter;
import org.apache.flink.state.api.functions.KeyedStateBootstrapFunction;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;

/**
 * {@code tally check} against the real shaded job jar: a savepoint whose state the new job can
 * restore passes; one with state of an operator uid the new job no longer has is refused with the
 * uid named; a path that is no savepoint and a jar without the job are user errors. (An
 * incompatible PersonState change is refused by the restore half: {@code
 * PersonStateEvolutionTest#shouldRefuseAnIncompatibleChangeInTheRestoreCheck}.)
 */
class UpgradeCheckIT extends EndToEndTest {

  private static List<String> args() throws Exception {
    Configuration c = kafka.jobConfig("upgchk", "upgchk", postgres, tmp.resolve("pw-chk"));
    List<String> args = new ArrayList<>();
    c.toMap().forEach((k, v) -> args.addAll(List.of("--" + k, v)));
    return args;
  }

  private static Path jobJar() throws Exception {
    return JobSubmission.jobJar(Path.of(System.getProperty("user.dir")).getParent());
  }

  private static String savepoint(String name, boolean withRetiredOperator) throws Exception {
    String path = tmp.resolve(name).toUri().toString();
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(1);
    var persons =
        env.fromData(
            List.of(
                Tuple2.of(
                    "acme",
                    PersonState.newBuilder()
                        .setPersonId("p-1")
                        .setProperties("{}")
                        .setDistinctIds(List.of("user-1"))
                        .setIsIdentified(false)
                        .setCreatedAt(0L)
                        .build())),
            PersonsSavepoint.PROJECT_PERSON);
    if (!withRetiredOperator) {
      PersonsSavepoint.write(env, persons, TallyTopology.Uids.ENRICH, 128, path);
    } else {
      SavepointWriter.newSavepoint(env, new EmbeddedRocksDBStateBackend(), 128)
          .withOperator(
              OperatorIdentifier.forUid("retired-sessionizer"),
              OperatorTransformation.bootstrapWith(env.fromData("acme", "globex"))
                  .keyBy(s -> s, Types.STRING)
                  .transform(new OldState()))
          .write(path);
    }
    env.execute("savepoint " + name);
    return path;
  }

  /** Some keyed state under a uid the current job does not have. */
  static final class OldState extends KeyedStateBootstrapFunction<String, String> {
    private transient ValueState<String> last;

    @Override
    public void open(OpenContext openContext) {
      last = getRuntimeContext().getState(new ValueStateDescriptor<>("last", Types.STRING));
    }

    @Override
    public void processElement(String value, Context ctx) throws Exception {
      last.update(value);
    }
  }

  @Test
  void shouldPassWhenTheNewJobRestoresEveryState() throws Exception {
    assertThat(UpgradeCheck.problems(savepoint("compatible", false), jobJar(), args())).isEmpty();
  }

  @Test
  void shouldRefuseStateOfAnOperatorTheNewJobNoLongerHas() throws Exception {
    assertThat(UpgradeCheck.problems(savepoint("retired", true), jobJar(), args()))
        .singleElement()
        .asString()
        .contains("retired-sessionizer")
        .contains("removed or renamed");
  }

  @Test
  void shouldReportAMissingSavepointAndAJarWithoutTheJob() throws Exception {
    assertThatThrownBy(
            () -> UpgradeCheck.problems(tmp.resolve("none").toString(), jobJar(), args()))
        .hasMessageContaining("no such savepoint");
    Path notTheJob = tmp.resolve("empty.jar");
    try (var out =
        new java.util.jar.JarOutputStream(java.nio.file.Files.newOutputStream(notTheJob))) {
      out.putNextEntry(new java.util.jar.JarEntry("README"));
    }
    String compatible = savepoint("compatible2", false);
    assertThatThrownBy(() -> UpgradeCheck.problems(compatible, notTheJob, args()))
        .hasMessageContaining("does not contain the Tally ingestion job");
  }
}
