package dev.tally.capture;

import java.util.ArrayList;
import java.util.List;

/**
 * Decoder of lz-string's {@code compressToBase64} (the {@code compression=lz64} of older posthog-js
 * releases): an LZW variant over UTF-16 code units, written as 6-bit groups in base64 characters.
 * Only decoding: Tally never sends this format.
 */
final class LzString {
  private LzString() {}

  private static final String ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
  private static final int[] REVERSE = new int[128];

  static {
    java.util.Arrays.fill(REVERSE, -1);
    for (int i = 0; i < ALPHABET.length(); i++) {
      REVERSE[ALPHABET.charAt(i)] = i;
    }
  }

  /** Thrown for input that is not lz-string base64 output. */
  static final class Malformed extends Exception {
    Malformed(String message) {
      super(message);
    }
  }

  /** The decompressed text; over {@code maxChars} UTF-16 units it stops (a bomb is refused). */
  static String decompressFromBase64(String input, int maxChars) throws Malformed, PayloadTooLarge {
    if (input.isEmpty()) {
      return "";
    }
    return decompress(input.length(), 32, input, maxChars);
  }

  /** Reads the bit stream: each input character carries {@code log2(resetValue)+1} bits. */
  private static final class Bits {
    private final String input;
    private final int resetValue;
    private int value;
    private int position;
    private int index;

    Bits(String input, int resetValue) throws Malformed {
      this.input = input;
      this.resetValue = resetValue;
      this.value = charValue(0);
      this.position = resetValue;
      this.index = 1;
    }

    private int charValue(int i) throws Malformed {
      if (i >= input.length()) {
        return 0; // lz-string reads past the end as zeros; the end marker decides
      }
      char c = input.charAt(i);
      int v = c < 128 ? REVERSE[c] : -1;
      if (v < 0) {
        throw new Malformed("not a base64 character at " + i);
      }
      return v;
    }

    int read(int bitCount) throws Malformed {
      int bits = 0;
      for (int power = 0; power < bitCount; power++) {
        int bit = (value & position) != 0 ? 1 : 0;
        position >>= 1;
        if (position == 0) {
          position = resetValue;
          value = charValue(index++);
        }
        bits |= bit << power;
      }
      return bits;
    }
  }

  private static String decompress(int length, int resetValue, String input, int maxChars)
      throws Malformed, PayloadTooLarge {
    Bits bits = new Bits(input, resetValue);
    List<String> dictionary = new ArrayList<>();
    // codes 0, 1, 2 are "an 8-bit char follows", "a 16-bit char follows", "end"
    dictionary.add("");
    dictionary.add("");
    dictionary.add("");
    int enlargeIn = 4;
    int numBits = 3;
    String first;
    switch (bits.read(2)) {
      case 0 -> first = String.valueOf((char) bits.read(8));
      case 1 -> first = String.valueOf((char) bits.read(16));
      case 2 -> {
        return "";
      }
      default -> throw new Malformed("bad first code");
    }
    dictionary.add(first);
    String w = first;
    StringBuilder result = new StringBuilder(first);
    while (true) {
      if (bits.index > length + 1) {
        throw new Malformed("no end marker");
      }
      int c = bits.read(numBits);
      if (c == 0 || c == 1) {
        dictionary.add(String.valueOf((char) bits.read(c == 0 ? 8 : 16)));
        c = dictionary.size() - 1;
        enlargeIn--;
      } else if (c == 2) {
        return result.toString();
      }
      if (enlargeIn == 0) {
        enlargeIn = 1 << numBits;
        numBits++;
      }
      String entry;
      if (c < dictionary.size()) {
        entry = dictionary.get(c);
      } else if (c == dictionary.size()) {
        entry = w + w.charAt(0);
      } else {
        throw new Malformed("code " + c + " not in the dictionary");
      }
      result.append(entry);
      if (result.length() > maxChars) {
        throw new PayloadTooLarge("the lz64 body decompresses to more than " + maxChars + " chars");
      }
      dictionary.add(w + entry.charAt(0));
      enlargeIn--;
      w = entry;
      if (enlargeIn == 0) {
        enlargeIn = 1 << numBits;
        numBits++;
      }
    }
  }
}
