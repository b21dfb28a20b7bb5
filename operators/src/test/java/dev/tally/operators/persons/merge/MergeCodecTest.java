package dev.tally.operators.persons.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.avro.PersonState;
import dev.tally.operators.model.ValidEvent;
import dev.tally.operators.persons.PersonModel;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The protocol's bytes. Every reachable state and message of the model already goes through the
 * codec (MergeNetwork); here: the bytes of version 1 are pinned, so a change of format without a
 * new version fails, a newer version is refused with the remedy, and strings past DataOutput's 64
 * KB limit survive.
 */
class MergeCodecTest {
  private static ValidEvent event(String properties) {
    ValidEvent e = new ValidEvent();
    e.uuid = "00000000-0000-4000-8000-000000000001";
    e.project = "acme";
    e.event = "$identify";
    e.distinctId = "u";
    e.timestamp = "2026-12-03T10:00:00Z";
    e.timestampMillis = 1_796_292_000_000L;
    e.propertiesJson = properties;
    e.propertiesPresent = true;
    e.unknownFieldsJson = "{\"x\":1}";
    return e;
  }

  private static PersonNode busyNode() throws Exception {
    // a node coordinating a link, with an event parked behind it and a bounced one held
    PersonNode n = new PersonNode("acme", "p1", PersonModel.UNLIMITED, PersonModel.UNLIMITED);
    n.kind = PersonNode.Kind.ALIVE;
    n.person =
        PersonState.newBuilder()
            .setPersonId("p1")
            .setProperties("{\"plan\":\"pro\"}")
            .setDistinctIds(new ArrayList<>(List.of("u", "v")))
            .setIsIdentified(true)
            .setCreatedAt(5)
            .build();
    MergeMessage.AttemptId x = new MergeMessage.AttemptId("p1", 3);
    MergeMessage.Routed link = new MergeMessage.Routed(event("{\"$anon_distinct_id\":\"a\"}"), "t");
    PersonNode.Attempt at = new PersonNode.Attempt(x, link, "a");
    at.remote = "p9";
    at.remoteLocked = true;
    at.remoteState = n.person;
    n.attempts.put(x, at);
    n.attemptsStarted = 3;
    n.holder = x;
    n.queue.add(new PersonNode.LockRequest(new MergeMessage.AttemptId("p7", 1), true));
    n.parked.add(new PersonNode.Parked(link, x));
    n.parked.add(new PersonNode.Parked(new MergeMessage.Routed(event("{}"), null), null));
    n.held.put("00000000-0000-4000-8000-000000000002", 7L);
    return n;
  }

  static final String PERSON_NODE_V1 =
      "AQEBAAAAAnAxAAAADnsicGxhbiI6InBybyJ9AAAAAgAAAAF1AAAAAXYBAAAAAAAAAAUAAQAAAAJwMQAAAAAAAAADAAAAAAEAAAACcDcAAAAAAAAAAQEAAAABAAAAAnAxAAAAAAAAAAMAAAAkMDAwMDAwMDAtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAxAAAABGFjbWUAAAAJJGlkZW50aWZ5AAAAAXUAAAAUMjAyNi0xMi0wM1QxMDowMDowMFoAAAGiO1i5AAAAABl7IiRhbm9uX2Rpc3RpbmN0X2lkIjoiYSJ9AQEAAAAHeyJ4IjoxfQEAAAABdAAAAAFhAQAAAAJwOQAAAAEBAAAAAnAxAAAADnsicGxhbiI6InBybyJ9AAAAAgAAAAF1AAAAAXYBAAAAAAAAAAUAAAAAAAAAAwAAAAIAAAAkMDAwMDAwMDAtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAxAAAABGFjbWUAAAAJJGlkZW50aWZ5AAAAAXUAAAAUMjAyNi0xMi0wM1QxMDowMDowMFoAAAGiO1i5AAAAABl7IiRhbm9uX2Rpc3RpbmN0X2lkIjoiYSJ9AQEAAAAHeyJ4IjoxfQEAAAABdAEAAAACcDEAAAAAAAAAAwAAACQwMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDEAAAAEYWNtZQAAAAkkaWRlbnRpZnkAAAABdQAAABQyMDI2LTEyLTAzVDEwOjAwOjAwWgAAAaI7WLkAAAAAAnt9AQEAAAAHeyJ4IjoxfQAAAAAAAQAAACQwMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDIAAAAAAAAABw==";

  @Test
  void aPersonNodeOfVersionOneReadsBackAsItWasWritten() throws Exception {
    PersonNode n = busyNode();
    byte[] bytes = MergeCodec.encode(n);
    assertThat(Base64.getEncoder().encodeToString(bytes))
        .as("the bytes of version 1 (a change needs a new version and a reader of both)")
        .isEqualTo(PERSON_NODE_V1);
    PersonNode back =
        MergeCodec.decodePersonNode(
            Base64.getDecoder().decode(PERSON_NODE_V1),
            "acme",
            "p1",
            PersonModel.UNLIMITED,
            PersonModel.UNLIMITED);
    assertThat(back.fingerprint()).isEqualTo(n.fingerprint());
  }

  @Test
  void aLinkNodeAndEveryMessageKindReadBack() {
    LinkNode l = new LinkNode("acme", "u");
    l.root = "p1";
    l.reroutingTo = "p2";
    l.bounced.add(new MergeMessage.Routed(event("{}"), "p1"));
    l.parked.add(event("{\"$set\":{\"a\":1}}"));
    assertThat(MergeCodec.decodeLinkNode(MergeCodec.encode(l), "acme", "u").fingerprint())
        .isEqualTo(l.fingerprint());

    MergeMessage.AttemptId x = new MergeMessage.AttemptId("p1", 2);
    PersonState p =
        PersonState.newBuilder()
            .setPersonId("p1")
            .setProperties("{}")
            .setDistinctIds(new ArrayList<>(List.of("u")))
            .setCreatedAt(1)
            .build();
    List<MergeMessage> all =
        List.of(
            new MergeMessage.Routed(event("{}"), null),
            new MergeMessage.Flush("u"),
            new MergeMessage.Bounce(new MergeMessage.Routed(event("{}"), "p0"), "u", "p2", "p1"),
            new MergeMessage.Bounce(null, "u", "p2", "p1"),
            new MergeMessage.Find(x),
            new MergeMessage.Found(x, "p3"),
            new MergeMessage.Lock(x),
            new MergeMessage.Locked(x, "p3", p),
            new MergeMessage.Locked(x, "p3", null),
            new MergeMessage.Moved(x, "p4"),
            new MergeMessage.Decision(x, MergeMessage.Decision.Outcome.TOMB, "p1", null),
            new MergeMessage.Decision(x, MergeMessage.Decision.Outcome.REPLACE, null, p),
            new MergeMessage.Decision(x, MergeMessage.Decision.Outcome.RELEASE, null, null),
            new MergeMessage.Release(x),
            new MergeMessage.Join(x, new MergeMessage.Routed(event("{}"), "p0")),
            new MergeMessage.Joined(x, "p3"),
            new MergeMessage.Joined(x, null),
            new MergeMessage.Declined(x, "p3"),
            new MergeMessage.Ack("00000000-0000-4000-8000-000000000001"));
    for (MergeMessage m : all) {
      assertThat(MergeCodec.decodeMessage(MergeCodec.encode(m))).as(m.toString()).isEqualTo(m);
    }
  }

  @Test
  void propertiesLongerThanSixtyFourKilobytesSurvive() {
    String big = "{\"k\":\"" + "é".repeat(70_000) + "\"}";
    MergeMessage.Routed r = new MergeMessage.Routed(event(big), null);
    assertThat(MergeCodec.decodeMessage(MergeCodec.encode(r))).isEqualTo(r);
  }

  @Test
  void aNewerFormatIsRefusedWithTheRemedy() {
    byte[] bytes = MergeCodec.encode(new MergeMessage.Flush("u"));
    bytes[0] = 2;
    assertThatThrownBy(() -> MergeCodec.decodeMessage(bytes))
        .hasMessageContaining("format 2")
        .hasMessageContaining("tally backfill");
  }
}
