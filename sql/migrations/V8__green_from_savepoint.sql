-- Blue/green from a savepoint (docs/decisions.md 26): green restores blue's savepoint as a new
-- generation and starts with blue's rows as of that savepoint. Three things make that exact.

-- (1) Provenance: which sink transaction wrote each row version — the same (subtask, checkpoint)
-- as its tally.sink_commits row. NULL for rows written before this migration.
ALTER TABLE tally.event_counts       ADD COLUMN sink_subtask integer, ADD COLUMN sink_checkpoint bigint;
ALTER TABLE tally.breakdown_counts   ADD COLUMN sink_subtask integer, ADD COLUMN sink_checkpoint bigint;
ALTER TABLE tally.ledger             ADD COLUMN sink_subtask integer, ADD COLUMN sink_checkpoint bigint;
ALTER TABLE tally.source_offsets     ADD COLUMN sink_subtask integer, ADD COLUMN sink_checkpoint bigint;
ALTER TABLE tally.daily_active       ADD COLUMN sink_subtask integer, ADD COLUMN sink_checkpoint bigint;
ALTER TABLE tally.ingestion_warnings ADD COLUMN sink_subtask integer, ADD COLUMN sink_checkpoint bigint;

-- (2) While a hold exists, the sink does not delete a generation's superseded row versions, so
-- the versions as of a savepoint survive until they are copied.
CREATE TABLE tally.compaction_holds (
    generation text        PRIMARY KEY,
    reason     text        NOT NULL,
    held_at    timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT ON tally.compaction_holds TO tally_writer;
GRANT SELECT ON tally.compaction_holds TO tally_auditor;

-- (3) Lineage: the generation green inherited its state and rows from, and the ledger totals it
-- inherited (its own Kafka outputs hold only what it processed itself; the audit subtracts these).
CREATE TABLE tally.generation_inheritance (
    generation              text        PRIMARY KEY,
    parent                  text        NOT NULL,
    parent_savepoint        text        NOT NULL,
    inherited_consumed      bigint      NOT NULL,
    inherited_aggregated    bigint      NOT NULL,
    inherited_too_late      bigint      NOT NULL,
    inherited_dead_lettered bigint      NOT NULL,
    inherited_at            timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT ON tally.generation_inheritance TO tally_writer;
GRANT SELECT ON tally.generation_inheritance TO tally_auditor;
