package dev.tally.operators.persons.merge;

import dev.tally.avro.PersonState;
import dev.tally.operators.model.ValidEvent;
import dev.tally.operators.persons.merge.MergeMessage.AttemptId;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The bytes of the person protocol's keyed state ({@link LinkNode}, {@link PersonNode}) and of its
 * messages (data channel and loop topic). Every encoding starts with a version byte; a reader
 * accepts every version it lists and refuses a newer one with the remedy, so a savepoint or a loop
 * message written by a newer Tally is never misread. Version history: 1 — first (its attempts
 * gained the join flag before any release wrote it).
 */
public final class MergeCodec {
  static final byte V1 = 1;

  private MergeCodec() {}

  // ---- messages ----

  private static final byte ROUTED = 1;
  private static final byte FLUSH = 2;
  private static final byte BOUNCE = 3;
  private static final byte FIND = 4;
  private static final byte FOUND = 5;
  private static final byte LOCK = 6;
  private static final byte LOCKED = 7;
  private static final byte MOVED = 8;
  private static final byte DECISION = 9;
  private static final byte RELEASE = 10;
  private static final byte ACK = 11;
  private static final byte JOIN = 12;
  private static final byte JOINED = 13;
  private static final byte DECLINED = 14;

  public static byte[] encode(MergeMessage m) {
    return write(
        out -> {
          out.writeByte(V1);
          writeMessage(out, m);
        });
  }

  public static MergeMessage decodeMessage(byte[] bytes) {
    return read(
        bytes,
        in -> {
          version(in, "a person-protocol message");
          return readMessage(in);
        });
  }

  private static void writeMessage(DataOutputStream out, MergeMessage m) throws IOException {
    if (m instanceof MergeMessage.Routed r) {
      out.writeByte(ROUTED);
      writeRouted(out, r);
    } else if (m instanceof MergeMessage.Flush f) {
      out.writeByte(FLUSH);
      writeString(out, f.distinctId());
    } else if (m instanceof MergeMessage.Bounce b) {
      out.writeByte(BOUNCE);
      out.writeBoolean(b.routed() != null);
      if (b.routed() != null) {
        writeRouted(out, b.routed());
      }
      writeString(out, b.distinctId());
      writeString(out, b.target());
      writeString(out, b.from());
    } else if (m instanceof MergeMessage.Find f) {
      out.writeByte(FIND);
      writeAttempt(out, f.attempt());
    } else if (m instanceof MergeMessage.Found f) {
      out.writeByte(FOUND);
      writeAttempt(out, f.attempt());
      writeString(out, f.root());
    } else if (m instanceof MergeMessage.Lock l) {
      out.writeByte(LOCK);
      writeAttempt(out, l.attempt());
    } else if (m instanceof MergeMessage.Locked l) {
      out.writeByte(LOCKED);
      writeAttempt(out, l.attempt());
      writeString(out, l.root());
      writePerson(out, l.person());
    } else if (m instanceof MergeMessage.Moved mv) {
      out.writeByte(MOVED);
      writeAttempt(out, mv.attempt());
      writeString(out, mv.target());
    } else if (m instanceof MergeMessage.Decision d) {
      out.writeByte(DECISION);
      writeAttempt(out, d.attempt());
      out.writeByte(d.outcome().ordinal());
      writeNullable(out, d.target());
      writePerson(out, d.person());
    } else if (m instanceof MergeMessage.Release r) {
      out.writeByte(RELEASE);
      writeAttempt(out, r.attempt());
    } else if (m instanceof MergeMessage.Ack a) {
      out.writeByte(ACK);
      writeString(out, a.uuid());
    } else if (m instanceof MergeMessage.Join j) {
      out.writeByte(JOIN);
      writeAttempt(out, j.attempt());
      writeRouted(out, j.link());
    } else if (m instanceof MergeMessage.Joined j) {
      out.writeByte(JOINED);
      writeAttempt(out, j.attempt());
      writeNullable(out, j.root());
    } else if (m instanceof MergeMessage.Declined d) {
      out.writeByte(DECLINED);
      writeAttempt(out, d.attempt());
      writeString(out, d.root());
    } else {
      throw new IllegalArgumentException("no encoding for " + m);
    }
  }

  private static MergeMessage readMessage(DataInputStream in) throws IOException {
    byte tag = in.readByte();
    return switch (tag) {
      case ROUTED -> readRouted(in);
      case FLUSH -> new MergeMessage.Flush(readString(in));
      case BOUNCE -> {
        MergeMessage.Routed r = in.readBoolean() ? readRouted(in) : null;
        yield new MergeMessage.Bounce(r, readString(in), readString(in), readString(in));
      }
      case FIND -> new MergeMessage.Find(readAttempt(in));
      case FOUND -> new MergeMessage.Found(readAttempt(in), readString(in));
      case LOCK -> new MergeMessage.Lock(readAttempt(in));
      case LOCKED -> new MergeMessage.Locked(readAttempt(in), readString(in), readPerson(in));
      case MOVED -> new MergeMessage.Moved(readAttempt(in), readString(in));
      case DECISION ->
          new MergeMessage.Decision(
              readAttempt(in),
              MergeMessage.Decision.Outcome.values()[in.readByte()],
              readNullable(in),
              readPerson(in));
      case RELEASE -> new MergeMessage.Release(readAttempt(in));
      case ACK -> new MergeMessage.Ack(readString(in));
      case JOIN -> new MergeMessage.Join(readAttempt(in), readRouted(in));
      case JOINED -> new MergeMessage.Joined(readAttempt(in), readNullable(in));
      case DECLINED -> new MergeMessage.Declined(readAttempt(in), readString(in));
      default -> throw new IOException("unknown person-protocol message type " + tag);
    };
  }

  // ---- keyed state ----

  public static byte[] encode(LinkNode n) {
    return write(
        out -> {
          out.writeByte(V1);
          writeNullable(out, n.root);
          writeNullable(out, n.reroutingTo);
          out.writeInt(n.bounced.size());
          for (MergeMessage.Routed r : n.bounced) {
            writeRouted(out, r);
          }
          out.writeInt(n.parked.size());
          for (ValidEvent e : n.parked) {
            writeEvent(out, e);
          }
        });
  }

  public static LinkNode decodeLinkNode(byte[] bytes, String project, String distinctId) {
    return read(
        bytes,
        in -> {
          version(in, "a LINKS node's state");
          LinkNode n = new LinkNode(project, distinctId);
          n.root = readNullable(in);
          n.reroutingTo = readNullable(in);
          for (int i = in.readInt(); i > 0; i--) {
            n.bounced.add(readRouted(in));
          }
          for (int i = in.readInt(); i > 0; i--) {
            n.parked.add(readEvent(in));
          }
          return n;
        });
  }

  public static byte[] encode(PersonNode n) {
    return write(
        out -> {
          out.writeByte(V1);
          out.writeByte(n.kind.ordinal());
          writePerson(out, n.person);
          writeNullable(out, n.target);
          writeNullableAttempt(out, n.holder);
          out.writeBoolean(n.holderRemote);
          out.writeInt(n.queue.size());
          for (PersonNode.LockRequest q : n.queue) {
            writeAttempt(out, q.attempt());
            out.writeBoolean(q.remote());
          }
          out.writeInt(n.attempts.size());
          for (PersonNode.Attempt at : n.attempts.values()) {
            writeAttempt(out, at.id);
            writeRouted(out, at.link);
            writeString(out, at.a);
            writeNullable(out, at.remote);
            out.writeBoolean(at.same);
            out.writeBoolean(at.joining);
            out.writeBoolean(at.ownLock);
            out.writeBoolean(at.remoteLocked);
            writePerson(out, at.remoteState);
          }
          out.writeLong(n.attemptsStarted);
          out.writeInt(n.parked.size());
          for (PersonNode.Parked p : n.parked) {
            writeRouted(out, p.routed);
            writeNullableAttempt(out, p.attempt);
          }
          out.writeInt(n.held.size());
          for (var h : n.held.entrySet()) {
            writeString(out, h.getKey());
            out.writeLong(h.getValue());
          }
        });
  }

  public static PersonNode decodePersonNode(
      byte[] bytes, String project, String personId, int maxProperties, int maxBytes) {
    return read(
        bytes,
        in -> {
          version(in, "a PERSONS node's state");
          PersonNode n = new PersonNode(project, personId, maxProperties, maxBytes);
          n.kind = PersonNode.Kind.values()[in.readByte()];
          n.person = readPerson(in);
          n.target = readNullable(in);
          n.holder = readNullableAttempt(in);
          n.holderRemote = in.readBoolean();
          for (int i = in.readInt(); i > 0; i--) {
            n.queue.add(new PersonNode.LockRequest(readAttempt(in), in.readBoolean()));
          }
          for (int i = in.readInt(); i > 0; i--) {
            AttemptId id = readAttempt(in);
            PersonNode.Attempt at = new PersonNode.Attempt(id, readRouted(in), readString(in));
            at.remote = readNullable(in);
            at.same = in.readBoolean();
            at.joining = in.readBoolean();
            at.ownLock = in.readBoolean();
            at.remoteLocked = in.readBoolean();
            at.remoteState = readPerson(in);
            n.attempts.put(id, at);
          }
          n.attemptsStarted = in.readLong();
          for (int i = in.readInt(); i > 0; i--) {
            n.parked.add(new PersonNode.Parked(readRouted(in), readNullableAttempt(in)));
          }
          for (int i = in.readInt(); i > 0; i--) {
            n.hold(readString(in), in.readLong());
          }
          return n;
        });
  }

  // ---- parts ----

  private static void writeRouted(DataOutputStream out, MergeMessage.Routed r) throws IOException {
    writeEvent(out, r.event());
    writeNullable(out, r.heldBy());
  }

  private static MergeMessage.Routed readRouted(DataInputStream in) throws IOException {
    return new MergeMessage.Routed(readEvent(in), readNullable(in));
  }

  static void writeEvent(DataOutputStream out, ValidEvent e) throws IOException {
    writeString(out, e.uuid);
    writeString(out, e.project);
    writeString(out, e.event);
    writeString(out, e.distinctId);
    writeString(out, e.timestamp);
    out.writeLong(e.timestampMillis);
    writeString(out, e.propertiesJson);
    out.writeBoolean(e.propertiesPresent);
    writeNullable(out, e.unknownFieldsJson);
  }

  static ValidEvent readEvent(DataInputStream in) throws IOException {
    ValidEvent e = new ValidEvent();
    e.uuid = readString(in);
    e.project = readString(in);
    e.event = readString(in);
    e.distinctId = readString(in);
    e.timestamp = readString(in);
    e.timestampMillis = in.readLong();
    e.propertiesJson = readString(in);
    e.propertiesPresent = in.readBoolean();
    e.unknownFieldsJson = readNullable(in);
    return e;
  }

  private static void writePerson(DataOutputStream out, PersonState p) throws IOException {
    out.writeBoolean(p != null);
    if (p == null) {
      return;
    }
    writeString(out, p.getPersonId());
    writeString(out, p.getProperties());
    out.writeInt(p.getDistinctIds().size());
    for (String d : p.getDistinctIds()) {
      writeString(out, d);
    }
    out.writeBoolean(p.getIsIdentified());
    out.writeLong(p.getCreatedAt());
  }

  private static PersonState readPerson(DataInputStream in) throws IOException {
    if (!in.readBoolean()) {
      return null;
    }
    String id = readString(in);
    String properties = readString(in);
    List<String> ids = new ArrayList<>();
    for (int i = in.readInt(); i > 0; i--) {
      ids.add(readString(in));
    }
    return PersonState.newBuilder()
        .setPersonId(id)
        .setProperties(properties)
        .setDistinctIds(ids)
        .setIsIdentified(in.readBoolean())
        .setCreatedAt(in.readLong())
        .build();
  }

  private static void writeAttempt(DataOutputStream out, AttemptId a) throws IOException {
    writeString(out, a.coordinator());
    out.writeLong(a.n());
  }

  private static AttemptId readAttempt(DataInputStream in) throws IOException {
    return new AttemptId(readString(in), in.readLong());
  }

  private static void writeNullableAttempt(DataOutputStream out, AttemptId a) throws IOException {
    out.writeBoolean(a != null);
    if (a != null) {
      writeAttempt(out, a);
    }
  }

  private static AttemptId readNullableAttempt(DataInputStream in) throws IOException {
    return in.readBoolean() ? readAttempt(in) : null;
  }

  /** Strings of any length (DataOutput's UTF stops at 64 KB; properties may be larger). */
  private static void writeString(DataOutputStream out, String s) throws IOException {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(b.length);
    out.write(b);
  }

  private static String readString(DataInputStream in) throws IOException {
    byte[] b = new byte[in.readInt()];
    in.readFully(b);
    return new String(b, StandardCharsets.UTF_8);
  }

  private static void writeNullable(DataOutputStream out, String s) throws IOException {
    out.writeBoolean(s != null);
    if (s != null) {
      writeString(out, s);
    }
  }

  private static String readNullable(DataInputStream in) throws IOException {
    return in.readBoolean() ? readString(in) : null;
  }

  private static void version(DataInputStream in, String what) throws IOException {
    byte v = in.readByte();
    if (v != V1) {
      throw new IllegalStateException(
          what
              + " was written in format "
              + v
              + ", which this Tally cannot read (it reads 1): run the Tally release that wrote"
              + " it, or start a new generation with `tally backfill`");
    }
  }

  private interface Writer {
    void write(DataOutputStream out) throws IOException;
  }

  private interface Reader<T> {
    T read(DataInputStream in) throws IOException;
  }

  private static byte[] write(Writer w) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      w.write(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  private static <T> T read(byte[] bytes, Reader<T> r) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      return r.read(in);
    } catch (IOException e) {
      throw new UncheckedIOException("unreadable person-protocol bytes", e);
    }
  }
}
