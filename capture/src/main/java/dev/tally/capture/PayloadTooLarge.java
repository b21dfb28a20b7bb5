package dev.tally.capture;

/** A body, or what it decompresses to, over a size limit: answered 413. */
final class PayloadTooLarge extends Exception {
  PayloadTooLarge(String message) {
    super(message);
  }
}
