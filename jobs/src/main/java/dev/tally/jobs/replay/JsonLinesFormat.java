package dev.tally.jobs.replay;

import dev.tally.operators.model.ParsedRecord;
import dev.tally.operators.validation.EventValidator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.reader.SimpleStreamFormat;
import org.apache.flink.connector.file.src.reader.StreamFormat;
import org.apache.flink.core.fs.FSDataInputStream;

/**
 * Reads a JSON Lines file as SEMANTICS.md §1 splits it: records end at {@code \n} only ({@code \r}
 * stays in the line), a final {@code \n} starts no record, a last line without one is a record.
 * Each line is validated on the spot; the file is one split, so order is preserved.
 */
public final class JsonLinesFormat extends SimpleStreamFormat<ParsedRecord> {
  private final String fileName;

  public JsonLinesFormat(String fileName) {
    this.fileName = fileName;
  }

  @Override
  public StreamFormat.Reader<ParsedRecord> createReader(
      Configuration config, FSDataInputStream stream) {
    return new LineReader(stream, fileName);
  }

  @Override
  public TypeInformation<ParsedRecord> getProducedType() {
    return TypeInformation.of(ParsedRecord.class);
  }

  private static final class LineReader implements StreamFormat.Reader<ParsedRecord> {
    private final InputStream in;
    private final String fileName;
    private final byte[] buffer = new byte[64 * 1024];
    private int pos;
    private int limit;
    private long lineNumber;
    private boolean eof;

    LineReader(InputStream in, String fileName) {
      this.in = in;
      this.fileName = fileName;
    }

    @Override
    public ParsedRecord read() throws IOException {
      ByteArrayOutputStream line = null;
      while (true) {
        if (pos == limit) {
          if (eof || !fill()) {
            eof = true;
            if (line == null) {
              return null; // nothing after the last '\n'
            }
            return parse(line.toByteArray());
          }
        }
        int start = pos;
        while (pos < limit && buffer[pos] != '\n') {
          pos++;
        }
        if (line == null) {
          line = new ByteArrayOutputStream(Math.max(64, pos - start));
        }
        line.write(buffer, start, pos - start);
        if (pos < limit) {
          pos++; // consume '\n'
          return parse(line.toByteArray());
        }
      }
    }

    private boolean fill() throws IOException {
      int n = in.read(buffer);
      if (n <= 0) {
        return false;
      }
      pos = 0;
      limit = n;
      return true;
    }

    private ParsedRecord parse(byte[] line) {
      lineNumber++;
      return EventValidator.parseJsonLine(line, fileName + ":" + lineNumber);
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }
}
