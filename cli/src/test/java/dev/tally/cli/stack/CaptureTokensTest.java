package dev.tally.cli.stack;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.capture.TokenMap;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code stack up --capture-token}: mappings merged into the file the running endpoint reads. */
class CaptureTokensTest {
  @TempDir Path dir;

  @Test
  void shouldMergeMappingsIntoTheTokenFileTheEndpointReads() throws Exception {
    StackLayout layout = new StackLayout(dir, 0, 0, 0, 0, 0, 18000);
    LocalStack stack = new LocalStack(layout, dir, new PrintStream(PrintStream.nullOutputStream()));
    stack.addCaptureTokens(Map.of("phc_a", "acme", "phc_b", "globex"));
    stack.addCaptureTokens(Map.of("phc_b", "initech")); // remapped
    TokenMap tokens = new TokenMap(layout.captureTokenFile(), Map.of(), true);
    assertThat(tokens.project("phc_a")).hasValue("acme");
    assertThat(tokens.project("phc_b")).hasValue("initech");
    assertThat(tokens.project("phc_local_umbrella")).hasValue("umbrella");
    assertThat(tokens.project("phc_c")).isEmpty();
  }
}
