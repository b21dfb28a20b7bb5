package dev.tally.cli.traffic;

import dev.tally.avro.RawEvent;
import dev.tally.operators.json.Json;
import dev.tally.sinks.kafka.AvroCodec;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

/**
 * Realistic, seeded product-analytics traffic: a few projects with skewed sizes, pageviews
 * dominating, person properties set now and then, about 2% client retries (duplicates), 1% invalid
 * records and 2% person links ({@code $identify} and {@code $create_alias}, see {@link #link}).
 * Event times advance from {@code start} at {@code ratePerSecond} with a little jitter that stays
 * inside the out-of-orderness bound, so no event is too late.
 */
public final class TrafficGenerator {
  private static final String[] PROJECTS = {"acme", "acme", "acme", "globex", "globex", "initech"};
  private static final String[] EVENTS = {
    "$pageview",
    "$pageview",
    "$pageview",
    "$pageview",
    "$pageview",
    "$autocapture",
    "signup",
    "purchase",
    "$pageleave"
  };
  private static final String[] BROWSERS = {
    "Chrome", "Chrome", "Chrome", "Firefox", "Safari", "Edge"
  };
  private static final String[] PLANS = {"free", "free", "pro", "team"};
  private static final String[] PATHS = {"/", "/pricing", "/docs", "/blog", "/signup", "/app"};

  private final Random random;
  private final long startMillis;
  private final double millisPerEvent;
  private final int personsPerProject;

  /** Recent valid events (client retries repeat one of the last 50); trimmed, so memory is flat. */
  private final List<GeneratedEvent> sent = new ArrayList<>();

  private final double[] zipfCumulative; // null: the default, mildly skewed distinct_ids
  private long index;

  private long members;

  /** The new distinct_ids of links, per project: they go on sending events as the same person. */
  private final Map<String, List<String>> membersByProject = new java.util.HashMap<>();

  /** Makes each generator's new distinct_ids its own (the drill runs two generators at once). */
  private final String memberPrefix;

  public TrafficGenerator(long seed, Instant start, double ratePerSecond, int personsPerProject) {
    this(seed, start, ratePerSecond, personsPerProject, false, null);
  }

  private TrafficGenerator(
      long seed,
      Instant start,
      double ratePerSecond,
      int personsPerProject,
      boolean skewed,
      String onlyProject) {
    this.onlyProject = onlyProject;
    this.random = new Random(seed);
    this.startMillis = start.toEpochMilli();
    this.millisPerEvent = 1000.0 / ratePerSecond;
    this.personsPerProject = personsPerProject;
    this.zipfCumulative = skewed ? zipf(personsPerProject, ZIPF_EXPONENT) : null;
    this.memberPrefix = "member-" + Long.toString(random.nextLong() >>> 1, 36) + "-";
  }

  /** Null, or the one project of {@link #oneProject} traffic. */
  private final String onlyProject;

  /**
   * The default traffic with every event in one project ({@code acme}): the case where the project
   * is no unit of parallelism at all (issue 15's {@code one project / three projects}).
   */
  public static TrafficGenerator oneProject(
      long seed, Instant start, double ratePerSecond, int personsPerProject) {
    return new TrafficGenerator(seed, start, ratePerSecond, personsPerProject, false, "acme");
  }

  /** The project that carries half of the traffic in {@link #skewed} traffic. */
  public static final String HOT_PROJECT = "hotco";

  private static final double ZIPF_EXPONENT = 1.1;

  /**
   * Hot-key traffic: one project ({@link #HOT_PROJECT}) carries half of the events and distinct_ids
   * follow a Zipf distribution (exponent 1.1), so a handful of persons send most events.
   */
  public static TrafficGenerator skewed(
      long seed, Instant start, double ratePerSecond, int personsPerProject) {
    return new TrafficGenerator(seed, start, ratePerSecond, personsPerProject, true, null);
  }

  private static double[] zipf(int n, double exponent) {
    double[] cumulative = new double[n];
    double sum = 0;
    for (int k = 1; k <= n; k++) {
      sum += 1 / Math.pow(k, exponent);
      cumulative[k - 1] = sum;
    }
    for (int i = 0; i < n; i++) {
      cumulative[i] /= sum;
    }
    return cumulative;
  }

  private String project() {
    if (onlyProject != null) {
      random.nextInt(PROJECTS.length); // the same random sequence as the default traffic otherwise
      return onlyProject;
    }
    if (zipfCumulative != null && random.nextBoolean()) {
      return HOT_PROJECT;
    }
    return PROJECTS[random.nextInt(PROJECTS.length)];
  }

  private int personNumber() {
    if (zipfCumulative == null) {
      return 1 + (int) Math.floor(Math.pow(random.nextDouble(), 2) * personsPerProject);
    }
    int i = java.util.Arrays.binarySearch(zipfCumulative, random.nextDouble());
    return 1 + (i >= 0 ? i : Math.min(-i - 1, personsPerProject - 1));
  }

  public List<GeneratedEvent> next(int count) {
    List<GeneratedEvent> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      out.add(next());
    }
    return out;
  }

  public GeneratedEvent next() {
    double roll = random.nextDouble();
    GeneratedEvent e;
    if (roll < 0.02 && !sent.isEmpty()) {
      GeneratedEvent original =
          sent.get(sent.size() - 1 - random.nextInt(Math.min(50, sent.size())));
      e =
          new GeneratedEvent(
              GeneratedEvent.Kind.DUPLICATE,
              original.uuid(),
              original.project(),
              original.event(),
              original.distinctId(),
              original.timestampMillis(),
              original.browser(),
              original.avro());
    } else if (roll < 0.03) {
      e = invalid();
    } else if (roll < 0.05) {
      e = link();
      sent.add(e);
    } else {
      e = valid();
      sent.add(e);
      if (sent.size() > 1000) {
        sent.subList(0, sent.size() - 50).clear();
      }
    }
    index++;
    return e;
  }

  private long eventTime() {
    long jitter = (long) (random.nextGaussian() * 1500);
    jitter = Math.max(-4000, Math.min(4000, jitter));
    return startMillis + (long) (index * millisPerEvent) + jitter;
  }

  private GeneratedEvent valid() {
    String project = project();
    List<String> members = membersByProject.get(project);
    // after a link its new distinct_id sends events too (posthog-js switches to it on login)
    String distinctId =
        members != null && random.nextDouble() < 0.1
            ? members.get(random.nextInt(members.size()))
            : "user-" + personNumber();
    String event = EVENTS[random.nextInt(EVENTS.length)];
    String browser = BROWSERS[random.nextInt(BROWSERS.length)];
    long ts = eventTime();
    String uuid = new UUID(random.nextLong(), random.nextLong()).toString();
    Map<String, Object> props = new LinkedHashMap<>();
    props.put("$browser", browser);
    props.put(
        "$current_url", "https://" + project + ".example" + PATHS[random.nextInt(PATHS.length)]);
    if ("signup".equals(event) || random.nextDouble() < 0.05) {
      props.put("$set", Map.of("plan", PLANS[random.nextInt(PLANS.length)]));
      props.put(
          "$set_once",
          Map.of("first_seen", DateTimeFormatter.ISO_INSTANT.format(Instant.ofEpochMilli(ts))));
    }
    return new GeneratedEvent(
        GeneratedEvent.Kind.VALID,
        uuid,
        project,
        event,
        distinctId,
        ts,
        browser,
        avro(uuid, project, event, distinctId, ts, props));
  }

  /**
   * A link: {@code $identify} (or, one in two, {@code $create_alias}) by a new distinct_id {@code
   * member-<generator>-<n>} of an existing one {@code user-<m>}; the new id then sends some of the
   * project's later events. U is new at its link, so a link never meets two existing persons (no
   * merge, no refusal) and the persons of the result do not depend on the order in which the job
   * reads the partitions of A and U (U joins A's person, or A joins U's if the link is read first):
   * {@link ExpectedCounts} counts A and every new id linked to it as one person.
   */
  private GeneratedEvent link() {
    String project = project();
    String anonymous = "user-" + personNumber();
    String member = memberPrefix + (++members);
    membersByProject.computeIfAbsent(project, p -> new ArrayList<>()).add(member);
    boolean identify = random.nextBoolean();
    String event = identify ? "$identify" : "$create_alias";
    long ts = eventTime();
    String uuid = new UUID(random.nextLong(), random.nextLong()).toString();
    Map<String, Object> props = new LinkedHashMap<>();
    props.put(identify ? "$anon_distinct_id" : "alias", anonymous);
    if (identify) {
      props.put("$set", Map.of("email", member + "@" + project + ".example"));
    }
    return new GeneratedEvent(
        GeneratedEvent.Kind.VALID,
        uuid,
        project,
        event,
        member,
        ts,
        null,
        avro(uuid, project, event, member, ts, props));
  }

  /** A valid raw event as the job reads it from Kafka. */
  private static byte[] avro(
      String uuid,
      String project,
      String event,
      String distinctId,
      long ts,
      Map<String, Object> props) {
    return AvroCodec.encode(
        RawEvent.newBuilder()
            .setUuid(uuid)
            .setProject(project)
            .setEvent(event)
            .setDistinctId(distinctId)
            .setTimestamp(DateTimeFormatter.ISO_INSTANT.format(Instant.ofEpochMilli(ts)))
            .setProperties(Json.write(props))
            .build());
  }

  /** The distinct_id a link event links to its own ({@code $anon_distinct_id} or {@code alias}). */
  public static String linkedDistinctId(GeneratedEvent e) {
    if (!"$identify".equals(e.event()) && !"$create_alias".equals(e.event())) {
      return null;
    }
    try {
      RawEvent raw = AvroCodec.decode(e.avro(), RawEvent.class);
      Map<String, Object> props = Json.parseTrustedObject(raw.getProperties());
      Object a = props.get("$identify".equals(e.event()) ? "$anon_distinct_id" : "alias");
      return a instanceof String s ? s : null;
    } catch (java.io.IOException x) {
      throw new java.io.UncheckedIOException(x);
    }
  }

  private GeneratedEvent invalid() {
    String uuid = new UUID(random.nextLong(), random.nextLong()).toString();
    byte[] bytes;
    switch (random.nextInt(3)) {
      case 0 ->
          bytes =
              AvroCodec.encode(
                  RawEvent.newBuilder()
                      .setUuid("not-a-uuid")
                      .setProject("acme")
                      .setEvent("$pageview")
                      .setDistinctId("user-1")
                      .setTimestamp(
                          DateTimeFormatter.ISO_INSTANT.format(Instant.ofEpochMilli(eventTime())))
                      .build());
      case 1 ->
          bytes =
              AvroCodec.encode(
                  RawEvent.newBuilder()
                      .setUuid(uuid)
                      .setProject("acme")
                      .setDistinctId("user-2")
                      .setTimestamp(
                          DateTimeFormatter.ISO_INSTANT.format(Instant.ofEpochMilli(eventTime())))
                      .build());
      default ->
          bytes =
              "{\"this is\": \"json, not avro\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
    return new GeneratedEvent(
        GeneratedEvent.Kind.INVALID, uuid, "_invalid", "", "user-x", 0, null, bytes);
  }
}
