-- Tally's own tables. Written only by the aggregate sink (role tally_writer), one PostgreSQL
-- prepared transaction per sink subtask per checkpoint (docs/exactly-once.md).
--
-- Aggregate and ledger rows are insert-only versions: (row key, revision) is never updated.
-- A prepared transaction keeps its row locks until COMMIT PREPARED, and the commit runs on the
-- writer's own thread; upserting a row that the previous, still-prepared transaction touched
-- would block that thread on itself. Inserting a new revision never waits. Readers take the
-- highest revision per key (the analytics views); the committer deletes superseded revisions.

CREATE SCHEMA IF NOT EXISTS tally;

CREATE TABLE tally.generations (
    generation              text PRIMARY KEY CHECK (generation ~ '^[a-z0-9]{1,20}$'),
    max_out_of_orderness_ms bigint NOT NULL,
    allowed_lateness_ms     bigint NOT NULL,
    breakdowns              text[] NOT NULL DEFAULT '{}',
    registered_at           timestamptz NOT NULL DEFAULT now()
);

-- Which generation the analyst views show: exactly one row, flipped in one transaction.
CREATE TABLE tally.active_generation (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    generation  text NOT NULL REFERENCES tally.generations (generation),
    switched_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tally.event_counts (
    generation   text        NOT NULL,
    project      text        NOT NULL,
    grain        text        NOT NULL CHECK (grain IN ('minute', 'hour')),
    window_start timestamptz NOT NULL,
    event        text        NOT NULL,
    revision     bigint      NOT NULL,
    events       bigint      NOT NULL CHECK (events >= 0),
    persons      bigint      NOT NULL CHECK (persons >= 0),
    written_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (generation, project, grain, window_start, event, revision)
);

CREATE TABLE tally.breakdown_counts (
    generation   text        NOT NULL,
    project      text        NOT NULL,
    window_start timestamptz NOT NULL,
    event        text        NOT NULL,
    property     text        NOT NULL,
    value        text        NOT NULL,
    revision     bigint      NOT NULL,
    events       bigint      NOT NULL CHECK (events >= 0),
    persons      bigint      NOT NULL CHECK (persons >= 0),
    written_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (generation, project, window_start, event, property, value, revision)
);

-- SEMANTICS.md §8. hour is NULL for dead letters (project '_invalid').
CREATE TABLE tally.ledger (
    generation    text        NOT NULL,
    project       text        NOT NULL,
    hour          timestamptz,
    revision      bigint      NOT NULL,
    consumed      bigint      NOT NULL,
    aggregated    bigint      NOT NULL,
    duplicates    bigint      NOT NULL,
    too_late      bigint      NOT NULL,
    dead_lettered bigint      NOT NULL,
    written_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX ledger_key ON tally.ledger
    (generation, project, COALESCE(hour, '-infinity'::timestamptz), revision);

-- One row per sink subtask per checkpoint, inserted inside the same prepared transaction as the
-- rows: it proves a transaction committed (recovery) and carries the subtask's watermark
-- (freshness, SEMANTICS.md §9). watermark_ms is NULL before the first watermark.
CREATE TABLE tally.sink_commits (
    generation   text        NOT NULL,
    sink_id      text        NOT NULL,
    subtask      integer     NOT NULL,
    checkpoint   bigint      NOT NULL,
    gid          text        NOT NULL UNIQUE,
    parallelism  integer     NOT NULL,
    watermark_ms bigint,
    row_count    integer     NOT NULL,
    prepared_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (generation, sink_id, subtask, checkpoint)
);
