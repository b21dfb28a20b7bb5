package dev.tally.sinks.postgres;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Global ids of Tally's prepared transactions: {@code
 * tally_<generation>_<sink>_<subtask>_<checkpoint>}. {@code COMMIT PREPARED} takes no bind
 * parameters, so gids are built only from parts validated here ({@code [a-z0-9]} names, numbers)
 * and can be inlined into SQL safely.
 */
public final class TransactionIds {
  private static final Pattern NAME = Pattern.compile("[a-z0-9]{1,20}");

  /**
   * The trailing {@code _d<oid>} is the database's OID: prepared-transaction ids are server-wide,
   * so two databases on one server running a generation of the same name would otherwise collide
   * ("transaction identifier already in use") and fail each other's checkpoints. Ids without it
   * (written before it was added) still parse, so their transactions recover.
   */
  private static final Pattern GID =
      Pattern.compile(
          "tally_([a-z0-9]{1,20})_([a-z0-9]{1,20})_(\\d{1,6})_(\\d{1,19})(?:_d(\\d{1,10}))?");

  private TransactionIds() {}

  public static String validateName(String what, String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          what + " '" + name + "' must be 1-20 characters of a-z and 0-9");
    }
    return name;
  }

  public static String gid(String generation, String sinkId, int subtask, long checkpoint) {
    validateName("generation", generation);
    validateName("sink id", sinkId);
    return "tally_" + generation + "_" + sinkId + "_" + subtask + "_" + checkpoint;
  }

  /** The gid of a transaction prepared in the database with OID {@code database}. */
  public static String gid(
      String generation, String sinkId, int subtask, long checkpoint, long database) {
    return gid(generation, sinkId, subtask, checkpoint) + "_d" + database;
  }

  /** The LIKE pattern of every gid of one sink of one generation. */
  public static String sinkPrefix(String generation, String sinkId) {
    return "tally\\_"
        + validateName("generation", generation)
        + "\\_"
        + validateName("sink id", sinkId)
        + "\\_";
  }

  /** The LIKE pattern of every gid of one generation (all its sinks). */
  public static String generationPattern(String generation) {
    return "tally\\_" + validateName("generation", generation) + "\\_%";
  }

  /** A parsed gid, or null when the text is not one of Tally's gids. */
  public record Parsed(String generation, String sinkId, int subtask, long checkpoint) {}

  public static Parsed parse(String gid) {
    Matcher m = GID.matcher(gid);
    if (!m.matches()) {
      return null;
    }
    return new Parsed(
        m.group(1), m.group(2), Integer.parseInt(m.group(3)), Long.parseLong(m.group(4)));
  }

  /** The SQL literal of a gid; only gids that {@link #parse} accepts get here. */
  static String literal(String gid) {
    if (parse(gid) == null) {
      throw new IllegalArgumentException("not a Tally transaction id: " + gid);
    }
    return "'" + gid + "'";
  }
}
