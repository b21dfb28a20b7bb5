package dev.tally.operators.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every rule of Tally's JSON reader and writer, the ones the contract needs and general-purpose
 * libraries don't give together (SEMANTICS.md: numbers as written, last key wins, lone surrogates
 * rejected), and the strict RFC 8259 grammar around them.
 */
class JsonTest {
  @ParameterizedTest
  @ValueSource(
      strings = {
        "0",
        "-0",
        "1.0",
        "1.50",
        "1e5",
        "1E+2",
        "-2.5e-3",
        "123456789012345678901234567890"
      })
  void numbersKeepTheirLiteralText(String literal) throws Exception {
    assertThat(Json.parse(literal)).isEqualTo(new JsonNumber(literal));
    assertThat(Json.write(Json.parse("[" + literal + "]"))).isEqualTo("[" + literal + "]");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "01",
        "1.",
        ".5",
        "+1",
        "1e",
        "1e+",
        "-",
        "--1",
        "NaN",
        "Infinity",
        "-Infinity",
        "0x10"
      })
  void numbersOutsideTheGrammarAndNonFiniteValuesAreRejected(String text) {
    assertThatThrownBy(() -> Json.parse(text)).isInstanceOf(JsonException.class);
  }

  @Test
  void aRepeatedKeyKeepsItsFirstPositionAndTakesTheLastValue() throws Exception {
    Map<String, Object> o = Json.parseObject("{\"a\":1,\"b\":2,\"a\":3}");
    assertThat(new ArrayList<>(o.keySet())).containsExactly("a", "b");
    assertThat(o.get("a")).isEqualTo(new JsonNumber("3"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "\"\\ud800\"",
        "\"\\udc00\"",
        "\"\\ud800x\"",
        "\"\\ud800\\u0041\"",
        "\"\\udc00\\ud800\"",
        "\"\ud800\"",
        "\"a\udc00\""
      })
  void loneSurrogatesEscapedOrRawAreRejected(String text) {
    assertThatThrownBy(() -> Json.parse(text))
        .isInstanceOf(JsonException.class)
        .hasMessageContaining("lone surrogate");
  }

  @Test
  void pairedSurrogatesEscapedOrRawAreOneCodePoint() throws Exception {
    assertThat(Json.parse("\"\\ud83d\\ude00\"")).isEqualTo("😀");
    assertThat(Json.parse("\"😀\"")).isEqualTo("😀");
    assertThat(Json.parse("\"\\uD83D\\uDE00\"")).as("upper-case hex").isEqualTo("😀");
  }

  @Test
  void everyEscapeOfTheGrammarAndNoOther() throws Exception {
    assertThat(Json.parse("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0041 \\u00e9 \\u0000\""))
        .isEqualTo("\" \\ / \b \f \n \r \t A é \u0000");
    for (String bad : List.of("\"\\x\"", "\"\\u12\"", "\"\\u12g4\"", "\"\\uＦＦＦＦ\"", "\"\\")) {
      assertThatThrownBy(() -> Json.parse(bad)).as(bad).isInstanceOf(JsonException.class);
    }
  }

  @Test
  void rawControlCharactersInStringsAreRejected() {
    for (char c : new char[] {'\u0000', '\n', '\t', '\u001f'}) {
      assertThatThrownBy(() -> Json.parse("\"a" + c + "b\""))
          .hasMessageContaining("control character");
    }
  }

  @Test
  void nestingIsBoundedAt512Levels() throws Exception {
    assertThat(Json.parse("[".repeat(512) + "1" + "]".repeat(512))).isInstanceOf(List.class);
    assertThatThrownBy(() -> Json.parse("[".repeat(513) + "1" + "]".repeat(513)))
        .hasMessageContaining("nesting deeper than 512");
    assertThatThrownBy(() -> Json.parse("{\"a\":".repeat(600) + "1" + "}".repeat(600)))
        .hasMessageContaining("nesting deeper than 512");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        " ",
        "{} x",
        "1 2",
        "{\"a\" 1}",
        "{\"a\":1,}",
        "[1,]",
        "{,}",
        "[1 2]",
        "{1:2}",
        "{'a':1}",
        "\"unterminated",
        "tru",
        "nul",
        "True",
        "[",
        "{\"a\":",
        "\u00a0{}"
      })
  void anythingOutsideTheGrammarIsRejected(String text) {
    assertThatThrownBy(() -> Json.parse(text)).isInstanceOf(JsonException.class);
  }

  @Test
  void literalsAndWhitespace() throws Exception {
    assertThat(Json.parse(" \t\n\r[true,false,null]\r\n"))
        .isEqualTo(List.of(Boolean.TRUE, Boolean.FALSE, Json.NULL));
    assertThat(Json.parse("{ }")).isEqualTo(Map.of());
    assertThat(Json.parse("[ ]")).isEqualTo(List.of());
  }

  @Test
  void parseObjectRefusesOtherValuesAndTrustedTextFailsAsABug() {
    assertThatThrownBy(() -> Json.parseObject("[]")).hasMessageContaining("not a JSON object");
    assertThatThrownBy(() -> Json.parseTrustedObject("{"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("internal JSON is invalid");
  }

  @Test
  void theWriterIsCompactKeepsKeyOrderAndLeavesNonAsciiUnescaped() throws Exception {
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("z", "é 😀 / \" \\");
    o.put("a", List.of(new JsonNumber("1.0"), Boolean.TRUE, Json.NULL));
    o.put("c", "\u0000\u001f\n\t\b\f\r");
    o.put("n", 42L);
    String written = Json.write(o);
    assertThat(written)
        .isEqualTo(
            "{\"z\":\"é 😀 / \\\" \\\\\",\"a\":[1.0,true,null],"
                + "\"c\":\"\\u0000\\u001f\\n\\t\\b\\f\\r\",\"n\":42}");
    Map<String, Object> back = Json.parseObject(written);
    assertThat(back.get("z")).isEqualTo(o.get("z"));
    assertThat(back.get("c")).isEqualTo(o.get("c"));
    assertThat(Json.quote("a\"b")).isEqualTo("\"a\\\"b\"");
  }

  @Test
  void theWriterRefusesWhatIsNotAJsonValue() {
    assertThatThrownBy(() -> Json.write(new Object())).isInstanceOf(IllegalArgumentException.class);
  }
}
