-- Kafka offsets consumed per partition, committed in the same transactions as the ledger, so the
-- audit can count the same offset ranges in Kafka and compare them with `consumed`.
CREATE TABLE tally.source_offsets (
    generation   text        NOT NULL,
    topic        text        NOT NULL,
    partition    integer     NOT NULL,
    revision     bigint      NOT NULL,
    first_offset bigint      NOT NULL,
    next_offset  bigint      NOT NULL,
    records      bigint      NOT NULL,
    written_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (generation, topic, partition, revision)
);

GRANT SELECT, INSERT, DELETE ON tally.source_offsets TO tally_writer;
