package dev.tally.jobs;

import static org.apache.flink.configuration.ConfigOptions.key;

import java.util.Collection;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.state.rocksdb.ConfigurableRocksDBOptionsFactory;
import org.apache.flink.state.rocksdb.RocksDBOptionsFactory;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;

/**
 * RocksDB column-family options for Tally's point lookups (set as {@code
 * state.backend.rocksdb.options-factory} by {@link IngestionJob}).
 *
 * <p>Most of Tally's state reads ask for a key that is not there: a uuid dedup has not seen, a
 * person not yet counted in a row. Without a filter each such miss searches the whole memtable skip
 * list (long keys with long common prefixes: many comparisons) and then an index and a data block
 * of every level. A whole-key bloom filter in the memtable answers most misses with a few hash
 * probes; the SST bloom filter ({@code state.backend.rocksdb.use-bloom-filter}, on by default in
 * Tally) does the same for the files. Measured in docs/performance.md (finding 19).
 *
 * <p>Applied after Flink's own configurable options and before its managed-memory settings (block
 * cache, cached index and filter blocks), so the filters count against managed memory.
 */
public final class TallyRocksDBOptions implements ConfigurableRocksDBOptionsFactory {
  private static final long serialVersionUID = 1L;

  public static final ConfigOption<Double> MEMTABLE_BLOOM_RATIO =
      key("tally.rocksdb.memtable-bloom-ratio")
          .doubleType()
          .defaultValue(0.01)
          .withDescription(
              "Size of the whole-key bloom filter in each RocksDB memtable as a fraction of the"
                  + " write buffer (0 disables; RocksDB caps it at 0.25). Saves the skip-list search"
                  + " of lookups that miss (docs/performance.md).");

  private double memtableBloomRatio = MEMTABLE_BLOOM_RATIO.defaultValue();

  @Override
  public RocksDBOptionsFactory configure(ReadableConfig configuration) {
    double ratio = configuration.get(MEMTABLE_BLOOM_RATIO);
    if (!(ratio >= 0 && ratio <= 0.25)) {
      throw new IllegalArgumentException(
          MEMTABLE_BLOOM_RATIO.key() + " must be between 0 and 0.25, was " + ratio);
    }
    this.memtableBloomRatio = ratio;
    return this;
  }

  @Override
  public DBOptions createDBOptions(
      DBOptions currentOptions, Collection<AutoCloseable> handlesToClose) {
    return currentOptions;
  }

  @Override
  public ColumnFamilyOptions createColumnOptions(
      ColumnFamilyOptions currentOptions, Collection<AutoCloseable> handlesToClose) {
    if (memtableBloomRatio == 0) {
      return currentOptions;
    }
    return currentOptions
        .setMemtablePrefixBloomSizeRatio(memtableBloomRatio)
        .setMemtableWholeKeyFiltering(true);
  }
}
