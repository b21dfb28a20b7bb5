package dev.tally.capture;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PostHog's capture API v0 (docs/capture.md). A request is answered 200 only once every one of its
 * events is acknowledged by the sink; 503 when the sink cannot take them now (the SDK retries); 400
 * for a body that cannot be decoded; 401 for a missing or unknown token; 413 over the limits.
 */
final class CaptureHandler extends Handler.Abstract {
  private static final Logger LOG = LoggerFactory.getLogger(CaptureHandler.class);

  /** PostHog's limits: 2 MiB a request on the event paths, 20 MiB on /batch. */
  static final int MAX_EVENT_PATH_BYTES = 2 * 1024 * 1024;

  static final int MAX_BATCH_PATH_BYTES = 20 * 1024 * 1024;

  /** One raw-topic record at most (PostHog: ~1 MB a Kafka message). */
  static final int MAX_RECORD_BYTES = 1_000_000;

  static final Set<String> ROUTES =
      Set.of("/e", "/i/v0/e", "/capture", "/track", "/engage", "/batch");

  private final TokenMap tokens;
  private final EventSink sink;
  private final CaptureMetrics metrics;
  private final Clock clock;

  CaptureHandler(TokenMap tokens, EventSink sink, CaptureMetrics metrics, Clock clock) {
    this.tokens = tokens;
    this.sink = sink;
    this.metrics = metrics;
    this.clock = clock;
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) {
    String path = request.getHttpURI().getPath();
    String route =
        path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    String method = request.getMethod();
    cors(request, response);
    if ("/_health".equals(route)) {
      return answer(response, callback, 200, "{\"status\":\"ok\"}");
    }
    if ("/_metrics".equals(route)) {
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; version=0.0.4");
      response.setStatus(200);
      Content.Sink.write(response, true, metrics.prometheus(), callback);
      return true;
    }
    if (!ROUTES.contains(route)) {
      return answer(response, callback, 404, error("no such capture path: " + path));
    }
    if ("OPTIONS".equals(method)) {
      return answer(response, callback, 200, "");
    }
    if (!"GET".equals(method) && !"POST".equals(method) && !"HEAD".equals(method)) {
      response.getHeaders().put(HttpHeader.ALLOW, "GET, POST, OPTIONS");
      return answer(response, callback, 405, error("method " + method + " is not allowed"));
    }
    Instant now = clock.instant();
    int limit = "/batch".equals(route) ? MAX_BATCH_PATH_BYTES : MAX_EVENT_PATH_BYTES;
    long declared = request.getLength();
    if (declared > limit) {
      return refuse(response, callback, 413, "the request is over " + limit + " bytes");
    }
    Content.Source.asByteArrayAsync(request, limit + 1)
        .whenComplete(
            (body, failure) -> {
              if (failure != null) {
                refuse(response, callback, 413, "the request is over " + limit + " bytes");
                return;
              }
              if (body.length > limit) {
                refuse(response, callback, 413, "the request is over " + limit + " bytes");
                return;
              }
              process(request, response, callback, route, method, body, limit, now);
            });
    return true;
  }

  private void process(
      Request request,
      Response response,
      Callback callback,
      String route,
      String method,
      byte[] body,
      int limit,
      Instant now) {
    Map<String, String> query = query(request);
    List<EventSink.Record> records;
    try {
      String json =
          RequestDecoder.decode(
              method,
              query,
              request.getHeaders().get(HttpHeader.CONTENT_TYPE),
              request.getHeaders().get(HttpHeader.CONTENT_ENCODING),
              body,
              limit);
      CapturedEvents.Payload payload =
          CapturedEvents.parse(json, "/engage".equals(route)).withQuerySentAt(query.get("_"));
      Optional<String> project = tokens.project(payload.token());
      if (project.isEmpty()) {
        metrics.unknownToken();
        refuse(response, callback, 401, "unknown project token");
        return;
      }
      records = CapturedEvents.toRecords(payload, project.get(), now);
      for (EventSink.Record r : records) {
        if (r.value().length > MAX_RECORD_BYTES) {
          refuse(
              response,
              callback,
              413,
              "an event is over " + MAX_RECORD_BYTES + " bytes (" + r.value().length + ")");
          return;
        }
      }
    } catch (RequestDecoder.BadRequest e) {
      refuse(response, callback, 400, e.getMessage());
      return;
    } catch (PayloadTooLarge e) {
      refuse(response, callback, 413, e.getMessage());
      return;
    } catch (CapturedEvents.NoToken e) {
      metrics.unknownToken();
      refuse(response, callback, 401, e.getMessage());
      return;
    } catch (RuntimeException e) {
      LOG.warn("capture: cannot process a request", e);
      refuse(response, callback, 400, "cannot process the payload: " + e.getMessage());
      return;
    }
    boolean beacon = "1".equals(query.get("beacon"));
    sink.send(records)
        .whenComplete(
            (ok, failure) -> {
              if (failure == null) {
                metrics.accepted(records.size());
                if (beacon) {
                  answer(response, callback, 204, "");
                } else {
                  answer(response, callback, 200, "{\"status\":1}");
                }
              } else {
                Throwable cause = failure.getCause() != null ? failure.getCause() : failure;
                LOG.warn("capture: answering 503: {}", cause.getMessage());
                refuse(
                    response, callback, 503, "events not stored, send again: Kafka is unavailable");
              }
            });
  }

  private static Map<String, String> query(Request request) {
    Map<String, String> q = new HashMap<>();
    try {
      Fields fields = Request.extractQueryParameters(request, StandardCharsets.UTF_8);
      for (Fields.Field f : fields) {
        q.put(f.getName(), f.getValue());
      }
    } catch (RuntimeException e) {
      // a query that does not decode is as good as none; the body decides
    }
    return q;
  }

  private static void cors(Request request, Response response) {
    String origin = request.getHeaders().get(HttpHeader.ORIGIN);
    response
        .getHeaders()
        .put(HttpHeader.ACCESS_CONTROL_ALLOW_ORIGIN, origin != null ? origin : "*");
    if (origin != null) {
      response.getHeaders().put(HttpHeader.ACCESS_CONTROL_ALLOW_CREDENTIALS, "true");
      response.getHeaders().put(HttpHeader.VARY, "Origin");
    }
    response.getHeaders().put(HttpHeader.ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS");
    String asked = request.getHeaders().get(HttpHeader.ACCESS_CONTROL_REQUEST_HEADERS);
    response
        .getHeaders()
        .put(HttpHeader.ACCESS_CONTROL_ALLOW_HEADERS, asked != null ? asked : "Content-Type");
    response.getHeaders().put(HttpHeader.ACCESS_CONTROL_MAX_AGE, "86400");
  }

  private boolean refuse(Response response, Callback callback, int status, String reason) {
    metrics.refused(status);
    return answer(response, callback, status, error(reason));
  }

  private static String error(String reason) {
    return "{\"status\":0,\"error\":" + dev.tally.operators.json.Json.quote(reason) + "}";
  }

  private static boolean answer(Response response, Callback callback, int status, String body) {
    response.setStatus(status);
    if (status == HttpStatus.NO_CONTENT_204 || body.isEmpty()) {
      response.write(true, ByteBuffer.allocate(0), callback);
      return true;
    }
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    Content.Sink.write(response, true, body, callback);
    return true;
  }
}
