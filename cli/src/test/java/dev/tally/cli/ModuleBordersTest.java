package dev.tally.cli;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The module borders of docs/architecture.md, enforced on the compiled main classes of every module
 * (this module sees them all): who may depend on whom, each package in its own module, and SQL
 * against {@code tally.*} only in the sinks that own that schema.
 */
class ModuleBordersTest {
  /** Package prefix → the module (directory) that must hold it. */
  private static final Map<String, String> MODULE_OF_PACKAGE = new LinkedHashMap<>();

  static {
    MODULE_OF_PACKAGE.put("dev.tally.avro", "operators");
    MODULE_OF_PACKAGE.put("dev.tally.operators", "operators");
    MODULE_OF_PACKAGE.put("dev.tally.sinks", "sinks");
    MODULE_OF_PACKAGE.put("dev.tally.jobs", "jobs");
    MODULE_OF_PACKAGE.put("dev.tally.savepoints", "savepoints-tooling");
    MODULE_OF_PACKAGE.put("dev.tally.capture", "capture");
    MODULE_OF_PACKAGE.put("dev.tally.cli", "cli");
  }

  private static JavaClasses tally;

  @BeforeAll
  static void importMainClasses() {
    tally =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.tally");
    // every module contributes classes, or the rules below would pass on nothing
    for (String prefix : MODULE_OF_PACKAGE.keySet()) {
      assertThat(tally.stream().anyMatch(c -> c.getPackageName().startsWith(prefix)))
          .as("classes of %s on the classpath", prefix)
          .isTrue();
    }
  }

  @Test
  void eachModuleDependsOnlyOnTheModulesBelowIt() {
    layeredArchitecture()
        .consideringOnlyDependenciesInLayers()
        .layer("operators")
        .definedBy("dev.tally.operators..", "dev.tally.avro..")
        .layer("sinks")
        .definedBy("dev.tally.sinks..")
        .layer("jobs")
        .definedBy("dev.tally.jobs..")
        .layer("savepoints-tooling")
        .definedBy("dev.tally.savepoints..")
        .layer("capture")
        .definedBy("dev.tally.capture..")
        .layer("cli")
        .definedBy("dev.tally.cli..")
        .whereLayer("cli")
        .mayNotBeAccessedByAnyLayer()
        .whereLayer("savepoints-tooling")
        .mayOnlyBeAccessedByLayers("cli")
        .whereLayer("capture")
        .mayOnlyBeAccessedByLayers("cli")
        .whereLayer("jobs")
        .mayOnlyBeAccessedByLayers("savepoints-tooling", "cli")
        .whereLayer("sinks")
        .mayOnlyBeAccessedByLayers("jobs", "savepoints-tooling", "cli")
        .whereLayer("operators")
        .mayOnlyBeAccessedByLayers("sinks", "jobs", "savepoints-tooling", "capture", "cli")
        .check(tally);
  }

  /** A package compiled into another module would slip past the layer rule above. */
  @Test
  void everyPackageLivesInItsOwnModule() {
    List<String> misplaced = new ArrayList<>();
    for (JavaClass c : tally) {
      String module = moduleOf(c.getPackageName());
      String location = c.getSource().map(s -> s.getUri().toString()).orElse("?");
      if (module == null) {
        misplaced.add(c.getName() + ": a package no module owns");
      } else if (!location.contains("/" + module + "/target/")
          && !location.contains("tally-" + module + "-")) {
        misplaced.add(c.getName() + " in " + location + ", not in " + module);
      }
    }
    assertThat(misplaced).isEmpty();
  }

  /**
   * The {@code tally.*} tables are the sinks' schema: their statements are generated or written in
   * {@code sinks} only. The other modules read the analysts' views or call the sinks. Checked in
   * every string literal (literals joined by {@code +} read as one), in any letter case; privilege
   * statements ({@code GRANT}/{@code REVOKE}, the drill's revoked-writer fault) are not queries and
   * are left out.
   */
  @Test
  void onlyTheSinksWriteSqlAgainstTheTallySchema() throws IOException {
    Pattern sql =
        Pattern.compile(
            "\\b(FROM|INTO|UPDATE|JOIN|USING|TRUNCATE|TABLE|COPY)\\s+(ONLY\\s+)?tally\\.[a-z_]+",
            Pattern.CASE_INSENSITIVE);
    Pattern literal = Pattern.compile("\"(?:[^\"\\\\\n]|\\\\.)*\"");
    List<String> found = new ArrayList<>();
    for (String module : List.of("operators", "jobs", "savepoints-tooling", "capture", "cli")) {
      Path main = Path.of("..", module, "src", "main", "java");
      assertThat(main).isDirectory();
      try (Stream<Path> files = Files.walk(main)) {
        for (Path f :
            (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
          String joined = Files.readString(f).replaceAll("\"\\s*\\+\\s*\"", "");
          Matcher lit = literal.matcher(joined);
          while (lit.find()) {
            Matcher m = sql.matcher(lit.group());
            if (m.find() && !isHostilePayload(lit.group())) {
              found.add(f + ": " + m.group());
            }
          }
        }
      }
    }
    assertThat(found).isEmpty();
  }

  /** The hostile traffic's SQL-injection strings are event data, not statements. */
  private static boolean isHostilePayload(String literal) {
    return literal.startsWith("\"';");
  }

  private static String moduleOf(String packageName) {
    String owner = null;
    for (var e : MODULE_OF_PACKAGE.entrySet()) {
      if (packageName.equals(e.getKey()) || packageName.startsWith(e.getKey() + ".")) {
        owner = e.getValue();
      }
    }
    return owner;
  }
}
