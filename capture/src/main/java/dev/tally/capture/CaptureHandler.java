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

  /**
   * What a body may decompress to, on every path (the SDKs gzip whole batches to {@code /e/}, so a
   * 2 MiB wire limit must not cap the JSON at 2 MiB).
   */
  static final int MAX_DECODED_BYTES = 20 * 1024 * 1024;

  /**
   * Events in one request. The SDKs send at most a few hundred; the cap keeps a small body of empty
   * objects from becoming millions of parsed events.
   */
  static final int MAX_EVENTS_PER_REQUEST = 10_000;

  static final Set<String> ROUTES =
      Set.of("/e", "/i/v0/e", "/capture", "/track", "/engage", "/batch");

  private final TokenMap tokens;
  private final EventSink sink;
  private final CaptureMetrics metrics;
  private final Clock clock;
  private final java.util.concurrent.Executor answers;
  private final long maxInFlightBytes;
  private final java.util.concurrent.atomic.AtomicLong inFlightBytes =
      new java.util.concurrent.atomic.AtomicLong();

  /**
   * Request bodies held at once, over all requests (reserved at their declared length, or at the
   * path's limit when none is declared, until the answer is sent). Above it a request is answered
   * 503 at once: many large bodies in flight must not exhaust the heap.
   */
  static final long MAX_IN_FLIGHT_BYTES = 64L * 1024 * 1024;

  /**
   * @param answers where answers are written once Kafka has acknowledged: not the producer's I/O
   *     thread, which must not wait on HTTP writes while Kafka is struggling
   */
  CaptureHandler(
      TokenMap tokens,
      EventSink sink,
      CaptureMetrics metrics,
      Clock clock,
      java.util.concurrent.Executor answers,
      long maxInFlightBytes) {
    this.maxInFlightBytes = maxInFlightBytes;
    this.tokens = tokens;
    this.sink = sink;
    this.metrics = metrics;
    this.clock = clock;
    this.answers = answers;
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) {
    String path = request.getHttpURI().getPath();
    String route =
        path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    String method = request.getMethod();
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
    cors(request, response); // only the capture paths are for browsers, not /_metrics
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
    long reserved = declared >= 0 ? declared : limit;
    if (!reserve(reserved)) {
      return refuse(
          response, callback, 503, "too many request bodies in flight; send again shortly");
    }
    Request.addCompletionListener(request, failure -> inFlightBytes.addAndGet(-reserved));
    Content.Source.asByteArrayAsync(request, limit + 1)
        .whenComplete(
            (body, failure) -> {
              try {
                if (failure != null) {
                  if (tooLarge(failure)) {
                    refuse(response, callback, 413, "the request is over " + limit + " bytes");
                  } else {
                    refuse(response, callback, 400, "the body could not be read");
                  }
                  return;
                }
                if (body.length > limit) {
                  refuse(response, callback, 413, "the request is over " + limit + " bytes");
                  return;
                }
                process(request, response, callback, route, method, body, now);
              } catch (Throwable t) {
                internalError(response, callback, t);
              }
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
              MAX_DECODED_BYTES);
      CapturedEvents.Payload payload =
          CapturedEvents.parse(json, "/engage".equals(route)).withQuerySentAt(query.get("_"));
      if (payload.events().size() > MAX_EVENTS_PER_REQUEST) {
        refuse(
            response,
            callback,
            413,
            "more than " + MAX_EVENTS_PER_REQUEST + " events in one request; send smaller batches");
        return;
      }
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
    }
    boolean beacon = "1".equals(query.get("beacon"));
    java.util.concurrent.CompletableFuture<Void> stored;
    try {
      stored = sink.send(records);
    } catch (RuntimeException e) {
      stored = java.util.concurrent.CompletableFuture.failedFuture(e);
    }
    stored.whenCompleteAsync(
        (ok, failure) -> {
          try {
            if (failure == null) {
              metrics.accepted(records.size());
              if (beacon) {
                answer(response, callback, 204, "");
              } else {
                answer(response, callback, 200, "{\"status\":1}");
              }
            } else {
              Throwable cause =
                  failure instanceof java.util.concurrent.CompletionException
                          && failure.getCause() != null
                      ? failure.getCause()
                      : failure;
              if (cause instanceof EventSink.Unavailable) {
                unavailable(cause);
                refuse(
                    response, callback, 503, "events not stored, send again: Kafka is unavailable");
              } else {
                internalError(response, callback, cause);
              }
            }
          } catch (Throwable t) {
            internalError(response, callback, t);
          }
        },
        answers);
  }

  private boolean reserve(long bytes) {
    while (true) {
      long now = inFlightBytes.get();
      if (now > 0 && now + bytes > maxInFlightBytes) {
        return false; // one request alone may use the whole budget, never more than one
      }
      if (inFlightBytes.compareAndSet(now, now + bytes)) {
        return true;
      }
    }
  }

  long inFlightBytes() {
    return inFlightBytes.get();
  }

  private static boolean tooLarge(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof IllegalArgumentException) {
        return true; // Jetty's "content too large" for asByteArrayAsync's maximum
      }
    }
    return false;
  }

  private volatile long lastUnavailableLog;

  /** One line a second at most while Kafka is down, not one per request. */
  private void unavailable(Throwable cause) {
    long now = System.currentTimeMillis();
    if (now - lastUnavailableLog > 1000) {
      lastUnavailableLog = now;
      LOG.warn("capture: answering 503: {}", cause.getMessage());
    }
  }

  /**
   * A fault of the door itself: answered 500 (the SDKs send again; a 4xx they would drop), never
   * left unanswered, and the message is not echoed to the client.
   */
  private void internalError(Response response, Callback callback, Throwable t) {
    LOG.error("capture: internal error while answering a request", t);
    try {
      refuse(response, callback, 500, "internal error of the capture endpoint; send again");
    } catch (Throwable again) {
      callback.failed(again);
    }
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
