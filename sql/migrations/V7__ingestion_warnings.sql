-- Ingestion warnings (SEMANTICS.md §4): refused person merges and capped person properties,
-- counted per project, hour of the event and kind, committed in the same transaction as the
-- aggregate rows. Insert-only revisions like the other aggregate tables.

CREATE TABLE tally.ingestion_warnings (
    generation  text        NOT NULL,
    project     text        NOT NULL,
    hour        timestamptz NOT NULL,
    kind        text        NOT NULL,
    revision    bigint      NOT NULL,
    occurrences bigint      NOT NULL CHECK (occurrences > 0),
    written_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (generation, project, hour, kind, revision)
);
GRANT SELECT, INSERT, DELETE ON tally.ingestion_warnings TO tally_writer;
GRANT SELECT ON tally.ingestion_warnings TO tally_auditor;

-- The active generation's warnings, newest revision per row.
CREATE VIEW analytics.ingestion_warnings AS
SELECT w.project, w.hour, w.kind, w.occurrences
FROM (SELECT DISTINCT ON (project, hour, kind) *
      FROM tally.ingestion_warnings
      WHERE generation = (SELECT generation FROM tally.active_generation)
      ORDER BY project, hour, kind, revision DESC) w;

GRANT SELECT ON analytics.ingestion_warnings TO tally_analyst, tally_auditor;
