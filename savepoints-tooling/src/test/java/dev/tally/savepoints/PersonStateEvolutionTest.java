package dev.tally.savepoints;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.avro.PersonState;
import dev.tally.operators.functions.EnrichWithPerson;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.apache.avro.Schema;
import org.apache.avro.compiler.specific.SpecificCompiler;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.SavepointReader;
import org.apache.flink.state.api.functions.KeyedStateReaderFunction;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PersonState is an Avro record so that person state survives an upgrade that changes it. A real
 * savepoint (RocksDB, written with the enrichment operator's own state descriptors) is taken with
 * today's PersonState. Then the next release is simulated: PersonState is generated from the schema
 * with one more field (with a default) and compiled, exactly as the Avro plugin would, and a
 * separate JVM whose classpath has that class instead of today's restores the savepoint with the
 * operator's descriptor. Old persons come back with the new field filled from its default; a field
 * without a default is refused by Flink's serializer compatibility check instead of corrupting
 * persons.
 *
 * <p>A separate JVM because Avro resolves record classes through the class's own loader ({@code
 * MODEL$}); with both versions visible to one loader it would pick the old one, which no real
 * deployment has.
 */
class PersonStateEvolutionTest {
  private static final String UID = "enrich-persons";
  private static final String ADDED_FIELD =
      "{\"name\": \"country\", \"type\": \"string\", \"default\": \"unknown\"}";
  @TempDir static Path tmp;
  static String savepoint;
  static final List<Tuple2<String, PersonState>> PERSONS =
      List.of(
          Tuple2.of("acme", person("p-1", "{\"plan\":\"pro\"}", true, "user-1", "anon-1")),
          Tuple2.of("acme", person("p-2", "{}", false, "anon-2")),
          Tuple2.of("globex", person("p-3", "{\"plan\":\"free\"}", false, "user-9")));

  static PersonState person(String id, String props, boolean identified, String... distinctIds) {
    return PersonState.newBuilder()
        .setPersonId(id)
        .setProperties(props)
        .setDistinctIds(List.of(distinctIds))
        .setIsIdentified(identified)
        .setCreatedAt(1_700_000_000_000L)
        .build();
  }

  @BeforeAll
  static void writeSavepointWithTodaysSchema() throws Exception {
    savepoint = tmp.resolve("persons-v1").toUri().toString();
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(2);
    PersonsSavepoint.write(
        env,
        env.fromData(PERSONS, PersonsSavepoint.PROJECT_PERSON),
        UID,
        PersonsSavepoint.DEFAULT_MAX_PARALLELISM,
        savepoint);
    env.execute("write persons");
  }

  @Test
  void shouldReadBackEveryPersonWithTodaysSchema() throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    List<String> read = new ArrayList<>();
    try (CloseableIterator<Tuple2<String, PersonState>> it =
        PersonsSavepoint.read(env, savepoint, UID).executeAndCollect()) {
      it.forEachRemaining(t -> read.add(t.f0 + "/" + t.f1));
    }
    assertThat(read)
        .containsExactlyInAnyOrderElementsOf(PERSONS.stream().map(t -> t.f0 + "/" + t.f1).toList());
  }

  @Test
  void shouldRestoreOldPersonsWithAnAddedFieldFilledFromItsDefault() throws Exception {
    Path evolved = compiledPersonState(evolvedSchema(ADDED_FIELD), "with-default");
    assertThat(restoreWith(evolved))
        .containsExactlyInAnyOrder(
            "acme p-1 country=unknown props={\"plan\":\"pro\"} ids=[user-1, anon-1] identified=true",
            "acme p-2 country=unknown props={} ids=[anon-2] identified=false",
            "globex p-3 country=unknown props={\"plan\":\"free\"} ids=[user-9] identified=false");
  }

  @Test
  void shouldRefuseAnAddedFieldWithoutADefault() throws Exception {
    Path evolved =
        compiledPersonState(
            evolvedSchema("{\"name\": \"country\", \"type\": \"string\"}"), "no-default");
    assertThatThrownBy(() -> restoreWith(evolved))
        .hasStackTraceContaining("must not be incompatible");
  }

  @Test
  void shouldRefuseAnIncompatibleChangeInTheRestoreCheck() throws Exception {
    Path evolved =
        compiledPersonState(
            evolvedSchema("{\"name\": \"country\", \"type\": \"string\"}"), "check-no-default");
    Process p =
        new ProcessBuilder(
                ProcessHandle.current().info().command().orElse("java"),
                "-cp",
                evolved + File.pathSeparator + classpath(),
                RestoreCheck.class.getName(),
                savepoint,
                UID)
            .redirectErrorStream(true)
            .start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(output).isEqualTo(1);
    assertThat(output).contains("PROBLEM persons state of enrich-persons does not restore");

    Path compatible = compiledPersonState(evolvedSchema(ADDED_FIELD), "check-with-default");
    Process ok =
        new ProcessBuilder(
                ProcessHandle.current().info().command().orElse("java"),
                "-cp",
                compatible + File.pathSeparator + classpath(),
                RestoreCheck.class.getName(),
                savepoint,
                UID)
            .redirectErrorStream(true)
            .start();
    String okOutput = new String(ok.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(ok.waitFor()).as(okOutput).isZero();
    assertThat(okOutput).doesNotContain("PROBLEM");
  }

  /** Today's PersonState schema with one more field at the end. */
  private static Schema evolvedSchema(String fieldJson) {
    String today = PersonState.getClassSchema().toString();
    int end = today.lastIndexOf(']');
    return new Schema.Parser()
        .parse(today.substring(0, end) + "," + fieldJson + today.substring(end));
  }

  /** PersonState generated from {@code schema} and compiled, in its own class directory. */
  private static Path compiledPersonState(Schema schema, String name) throws Exception {
    Path src = Files.createDirectories(tmp.resolve(name + "-src"));
    Path classes = Files.createDirectories(tmp.resolve(name + "-classes"));
    new SpecificCompiler(schema).compileToDestination(null, src.toFile());
    List<String> args = new ArrayList<>(List.of("-d", classes.toString(), "-cp", classpath()));
    try (Stream<Path> files = Files.walk(src)) {
      files.filter(f -> f.toString().endsWith(".java")).forEach(f -> args.add(f.toString()));
    }
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    assertThat(javac.run(null, null, null, args.toArray(String[]::new))).isZero();
    return classes;
  }

  private static String classpath() {
    return System.getProperty("java.class.path");
  }

  /**
   * Restores the savepoint in a JVM whose classpath has the evolved PersonState ahead of today's;
   * returns the persons it read, or fails with what the JVM printed.
   */
  private static List<String> restoreWith(Path evolvedClasses) throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    Process p =
        new ProcessBuilder(
                java,
                "-cp",
                evolvedClasses + File.pathSeparator + classpath(),
                RestoreWithEvolvedClass.class.getName(),
                savepoint)
            .redirectErrorStream(true)
            .start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new AssertionError("restore failed:\n" + output);
    }
    return output.lines().filter(l -> l.startsWith("PERSON ")).map(l -> l.substring(7)).toList();
  }

  /** The restoring JVM: reads every person through the operator's own state descriptor. */
  public static final class RestoreWithEvolvedClass {
    public static void main(String[] args) throws Exception {
      StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
      try (CloseableIterator<String> it =
          SavepointReader.read(env, args[0], new EmbeddedRocksDBStateBackend())
              .readKeyedState(
                  OperatorIdentifier.forUid(UID), new DescribePersons(), Types.STRING, Types.STRING)
              .executeAndCollect()) {
        it.forEachRemaining(line -> System.out.println("PERSON " + line));
      }
    }
  }

  /**
   * Reads the persons state with the job's own descriptor (so with whatever PersonState class the
   * JVM has) and describes each person by field name.
   */
  static final class DescribePersons extends KeyedStateReaderFunction<String, String> {
    private transient MapState<String, PersonState> persons;

    @Override
    public void open(OpenContext openContext) {
      persons = getRuntimeContext().getMapState(EnrichWithPerson.personsDescriptor());
    }

    @Override
    public void readKey(String project, Context ctx, Collector<String> out) throws Exception {
      for (Object value : persons.values()) {
        GenericRecord p = (GenericRecord) value;
        out.collect(
            String.format(
                "%s %s country=%s props=%s ids=%s identified=%s",
                project,
                p.get("person_id"),
                p.getSchema().getField("country") == null ? "(no such field)" : p.get("country"),
                p.get("properties"),
                p.get("distinct_ids"),
                p.get("is_identified")));
      }
    }
  }
}
