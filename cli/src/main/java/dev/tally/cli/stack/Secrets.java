package dev.tally.cli.stack;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The local stack's secrets folder: 0700, and each file created 0600 before a byte is written to it
 * (creating it with default permissions and restricting it afterwards leaves a moment in which
 * another user can open it, and keeps that open handle).
 */
public final class Secrets {
  private Secrets() {}

  /** The secret in {@code file}, or a new random one written there. */
  public static String readOrCreate(Path file) throws IOException {
    if (Files.isRegularFile(file)) {
      return Files.readString(file).strip();
    }
    byte[] bytes = new byte[18];
    new SecureRandom().nextBytes(bytes);
    String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    ensureFolder(file.getParent());
    Files.createFile(
        file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.WRITE)) {
      out.write(secret.getBytes(StandardCharsets.UTF_8));
    }
    return secret;
  }

  /** Creates the folder 0700 (and tightens an existing one to 0700). */
  public static void ensureFolder(Path folder) throws IOException {
    if (!Files.isDirectory(folder)) {
      Files.createDirectories(
          folder,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }
    Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwx------"));
  }
}
