-- Per-partition event time (a hot or stuck partition is visible by name) and daily active
-- persons (distinct persons per day cannot be summed from hours).

ALTER TABLE tally.source_offsets ADD COLUMN max_event_ms bigint;

CREATE TABLE tally.daily_active (
    generation text        NOT NULL,
    project    text        NOT NULL,
    day        date        NOT NULL,
    revision   bigint      NOT NULL,
    events     bigint      NOT NULL CHECK (events >= 0),
    persons    bigint      NOT NULL CHECK (persons >= 0),
    written_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (generation, project, day, revision)
);
GRANT SELECT, INSERT, DELETE ON tally.daily_active TO tally_writer;

-- Newest event time read per partition of the active generation, and its lag behind now.
CREATE VIEW analytics.partition_lag AS
SELECT o.topic, o.partition, o.records, o.next_offset,
       tally.ms_to_timestamptz(o.max_event_ms) AS max_event_time,
       round(extract(epoch FROM now()) - o.max_event_ms / 1000.0, 3) AS event_time_lag_seconds,
       o.written_at AS committed_at
FROM (SELECT DISTINCT ON (topic, partition) *
      FROM tally.source_offsets
      WHERE generation = (SELECT generation FROM tally.active_generation)
      ORDER BY topic, partition, revision DESC) o;

-- freshness gains the slowest partition (the minimum event time, never the maximum).
CREATE OR REPLACE VIEW analytics.freshness AS
SELECT f.generation,
       tally.ms_to_timestamptz(f.complete_through_ms) AS complete_through,
       tally.ms_to_timestamptz(f.complete_through_ms - f.allowed_lateness_ms) AS final_through,
       CASE WHEN f.complete_through_ms IS NULL OR f.complete_through_ms >= 4102444800000 THEN NULL
            ELSE round(extract(epoch FROM now()) - f.complete_through_ms / 1000.0, 3) END AS staleness_seconds,
       f.last_commit_at,
       s.topic || '/' || s.partition AS slowest_partition,
       s.event_time_lag_seconds AS slowest_partition_lag_seconds
FROM tally.generation_freshness f
JOIN tally.active_generation a ON a.generation = f.generation
LEFT JOIN LATERAL (SELECT * FROM analytics.partition_lag
                   ORDER BY max_event_time ASC NULLS FIRST LIMIT 1) s ON true;

CREATE VIEW analytics.daily_active_persons AS
SELECT d.project, d.day, d.events, d.persons,
       (d.day + 1)::timestamptz <= COALESCE(f.complete_through, '-infinity') AS is_complete,
       (d.day + 1)::timestamptz <= COALESCE(f.final_through, '-infinity') AS is_final,
       f.complete_through AS as_of
FROM (SELECT DISTINCT ON (project, day) *
      FROM tally.daily_active
      WHERE generation = (SELECT generation FROM tally.active_generation)
      ORDER BY project, day, revision DESC) d
LEFT JOIN analytics.freshness f ON true;

GRANT SELECT ON analytics.partition_lag, analytics.daily_active_persons, analytics.freshness TO tally_analyst;
