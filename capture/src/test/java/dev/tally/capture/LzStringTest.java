package dev.tally.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Vectors made with lz-string 1.5's compressToBase64 (node), the library old posthog-js used. */
class LzStringTest {
  @Test
  void shouldDecodeWhatLzStringEncoded() throws Exception {
    assertThat(LzString.decompressFromBase64("BYUwNmD2Q===", 1000)).isEqualTo("hello");
    assertThat(LzString.decompressFromBase64("B5A=", 1000)).isEqualTo("x");
    assertThat(LzString.decompressFromBase64("Q===", 1000)).isEmpty();
    assertThat(
            LzString.decompressFromBase64(
                "N4IgpgbmB2AuIC4QEMQBoQAcBOB7TY2sAlmAM6KgAeiIAP4DUEgvBuAAeyAL7tA=", 1000))
        .isEqualTo("{\"event\":\"a\",\"properties\":{\"x\":\"ü€😀\"}}");
    assertThat(
            LzString.decompressFromBase64(
                "IYI17SOrZ+6IcpqXrZj2u5/vQg4o0k8syi6q2m+uxh5p1l9tzjgoA===", 10_000))
        .isEqualTo("ab".repeat(400));
  }

  @Test
  void shouldStopAtTheLimitAndRefuseWhatIsNotLzString() {
    assertThatThrownBy(
            () ->
                LzString.decompressFromBase64(
                    "IYI17SOrZ+6IcpqXrZj2u5/vQg4o0k8syi6q2m+uxh5p1l9tzjgoA===", 100))
        .isInstanceOf(PayloadTooLarge.class);
    assertThatThrownBy(() -> LzString.decompressFromBase64("{\"event\":1}", 1000))
        .isInstanceOf(LzString.Malformed.class);
  }
}
