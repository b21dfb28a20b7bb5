package dev.tally.cli.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.SQLException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The dashboard's HTTP surface, with a database that cannot be reached. */
class DashboardServerTest {
  private DashboardServer server;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    server =
        DashboardServer.start(
            () -> {
              throw new SQLException("connection refused");
            },
            null,
            0);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(server.url() + path.substring(1))).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void servesThePageAndItsAssetsFromTheJarWithNothingFromElsewhere() throws Exception {
    HttpResponse<String> page = get("/");
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
    assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow())
        .startsWith("default-src 'self'");
    assertThat(page.body()).contains("/dashboard.js").doesNotContain("http://", "https://");
    assertThat(get("/dashboard.js").body()).contains("textContent").doesNotContain("innerHTML");
    assertThat(get("/dashboard.css").statusCode()).isEqualTo(200);
  }

  @Test
  void answersABadParameterWith400AndAnUnreadableDatabaseWith503() throws Exception {
    HttpResponse<String> bad = get("/api/minutes?minutes=0");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body())
        .isEqualTo("{\"error\":\"minutes must be a whole number from 1 to 1440\"}");
    assertThat(get("/api/ledger?hours=x").statusCode()).isEqualTo(400);
    HttpResponse<String> down = get("/api/ledger");
    assertThat(down.statusCode()).isEqualTo(503);
    assertThat(down.body())
        .contains("cannot read the analyst views")
        .contains("connection refused");
    assertThat(down.headers().firstValue("Cache-Control")).hasValue("no-store");
    assertThat(get("/api/nothing").statusCode()).isEqualTo(404);
    HttpResponse<String> post =
        http.send(
            HttpRequest.newBuilder(URI.create(server.url() + "api/ledger"))
                .POST(HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(post.statusCode()).isEqualTo(405);
  }

  @Test
  void withoutKafkaTheDeadLetterEndpointSaysWhatIsMissing() throws Exception {
    HttpResponse<String> dead = get("/api/dead-letters");
    assertThat(dead.statusCode()).isEqualTo(200);
    assertThat(dead.body())
        .isEqualTo(
            "{\"newest\":[],\"reasons\":{},\"unavailable\":\"no Kafka configured: dead letters"
                + " are counted in the ledger only\"}");
  }

  @Test
  void theStateOfAMinuteIsFinalOverCompleteOverOpen() {
    assertThat(DashboardData.state(true, true)).isEqualTo("final");
    assertThat(DashboardData.state(true, false)).isEqualTo("complete");
    assertThat(DashboardData.state(false, false)).isEqualTo("open");
  }
}
