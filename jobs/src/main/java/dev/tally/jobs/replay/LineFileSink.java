package dev.tally.jobs.replay;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.util.function.SerializableFunction;

/**
 * Writes one line per record to a local file, in arrival order. For {@code tally replay}, which
 * runs at parallelism 1 and is not restarted: no exactly-once machinery is needed.
 */
public final class LineFileSink<T> implements Sink<T> {
  private final String path;
  private final SerializableFunction<T, String> format;

  public LineFileSink(Path path, SerializableFunction<T, String> format) {
    this.path = path.toString();
    this.format = format;
  }

  @Override
  public SinkWriter<T> createWriter(WriterInitContext context) throws IOException {
    BufferedWriter out = Files.newBufferedWriter(Paths.get(path), StandardCharsets.UTF_8);
    return new SinkWriter<>() {
      @Override
      public void write(T element, Context ctx) throws IOException {
        out.write(format.apply(element));
        out.write('\n');
      }

      @Override
      public void flush(boolean endOfInput) throws IOException {
        out.flush();
      }

      @Override
      public void close() {
        try {
          out.close();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    };
  }
}
