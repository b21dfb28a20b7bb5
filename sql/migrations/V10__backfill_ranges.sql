-- A backfill repairs a range (docs/backfill.md): analysts see a backfill generation's rows for the
-- windows inside its range and the active (live) generation's rows everywhere else, with the live
-- generation's freshness. Before, a backfill was flipped in as the active generation, and every
-- hour outside its range — the live numbers too — disappeared from analytics.*.
CREATE TABLE tally.generation_ranges (
    generation    text        PRIMARY KEY REFERENCES tally.generations (generation),
    range_from    timestamptz NOT NULL,
    range_to      timestamptz NOT NULL,
    applied_seq   bigserial   NOT NULL UNIQUE, -- the later applied range wins where two overlap
    applied_at    timestamptz NOT NULL DEFAULT now(),
    rolled_back_at timestamptz,
    CHECK (range_from < range_to),
    CHECK (date_trunc('hour', range_from) = range_from AND date_trunc('hour', range_to) = range_to)
);
GRANT SELECT ON tally.generation_ranges TO tally_writer, tally_auditor;

-- The generation whose rows analysts see for the window [window_start, window_end): the newest
-- applied backfill whose range contains the whole window, else the active generation. Written
-- inline in each view (not a function): views read tally.* with their owner's rights, a function
-- would run with the analyst's, who may not read tally.*.
CREATE OR REPLACE VIEW analytics.event_counts WITH (security_barrier) AS
SELECT c.project, c.grain, c.window_start,
       c.window_start + CASE c.grain WHEN 'minute' THEN interval '1 minute' ELSE interval '1 hour' END AS window_end,
       c.event, c.events, c.persons, c.revision,
       (c.window_start + CASE c.grain WHEN 'minute' THEN interval '1 minute' ELSE interval '1 hour' END)
           <= COALESCE(f.complete_through, '-infinity') AS is_complete,
       (c.window_start + CASE c.grain WHEN 'minute' THEN interval '1 minute' ELSE interval '1 hour' END)
           <= COALESCE(f.final_through, '-infinity') AS is_final,
       f.complete_through AS as_of
FROM (SELECT DISTINCT ON (project, grain, window_start, event) *
      FROM tally.event_counts e
      WHERE e.generation = COALESCE(
          (SELECT r.generation FROM tally.generation_ranges r
           WHERE r.rolled_back_at IS NULL AND r.range_from <= e.window_start
             AND e.window_start + CASE e.grain WHEN 'minute' THEN interval '1 minute' ELSE interval '1 hour' END <= r.range_to
           ORDER BY r.applied_seq DESC LIMIT 1),
          (SELECT generation FROM tally.active_generation))
      ORDER BY project, grain, window_start, event, revision DESC) c
LEFT JOIN analytics.freshness f ON true;

CREATE OR REPLACE VIEW analytics.breakdown_counts WITH (security_barrier) AS
SELECT b.project, b.window_start, b.window_start + interval '1 hour' AS window_end,
       b.event, b.property, b.value, b.events, b.persons, b.revision,
       b.window_start + interval '1 hour' <= COALESCE(f.complete_through, '-infinity') AS is_complete,
       b.window_start + interval '1 hour' <= COALESCE(f.final_through, '-infinity') AS is_final,
       f.complete_through AS as_of
FROM (SELECT DISTINCT ON (project, window_start, event, property, value_sha256) *
      FROM tally.breakdown_counts e
      WHERE e.generation = COALESCE(
          (SELECT r.generation FROM tally.generation_ranges r
           WHERE r.rolled_back_at IS NULL AND r.range_from <= e.window_start
             AND e.window_start + interval '1 hour' <= r.range_to
           ORDER BY r.applied_seq DESC LIMIT 1),
          (SELECT generation FROM tally.active_generation))
      ORDER BY project, window_start, event, property, value_sha256, revision DESC) b
LEFT JOIN analytics.freshness f ON true;

-- Dead letters (hour NULL) are the live generation's: a backfill reads the same raw records again.
CREATE OR REPLACE VIEW analytics.ledger WITH (security_barrier) AS
SELECT l.project, l.hour, l.consumed, l.aggregated, l.duplicates, l.too_late, l.dead_lettered,
       l.consumed = l.aggregated + l.duplicates + l.too_late + l.dead_lettered AS balanced
FROM (SELECT DISTINCT ON (project, hour) *
      FROM tally.ledger e
      WHERE e.generation = COALESCE(
          (SELECT r.generation FROM tally.generation_ranges r
           WHERE e.hour IS NOT NULL AND r.rolled_back_at IS NULL AND r.range_from <= e.hour
             AND e.hour + interval '1 hour' <= r.range_to
           ORDER BY r.applied_seq DESC LIMIT 1),
          (SELECT generation FROM tally.active_generation))
      ORDER BY project, hour, revision DESC) l;

-- A day is a backfill's only when its range holds the whole day (distinct persons per day cannot
-- be combined from two generations).
CREATE OR REPLACE VIEW analytics.daily_active_persons WITH (security_barrier) AS
SELECT d.project, d.day, d.events, d.persons,
       (d.day + 1)::timestamptz <= COALESCE(f.complete_through, '-infinity') AS is_complete,
       (d.day + 1)::timestamptz <= COALESCE(f.final_through, '-infinity') AS is_final,
       f.complete_through AS as_of
FROM (SELECT DISTINCT ON (project, day) *
      FROM tally.daily_active e
      WHERE e.generation = COALESCE(
          (SELECT r.generation FROM tally.generation_ranges r
           WHERE r.rolled_back_at IS NULL AND r.range_from <= e.day::timestamptz
             AND (e.day + 1)::timestamptz <= r.range_to
           ORDER BY r.applied_seq DESC LIMIT 1),
          (SELECT generation FROM tally.active_generation))
      ORDER BY project, day, revision DESC) d
LEFT JOIN analytics.freshness f ON true;

CREATE OR REPLACE VIEW analytics.ingestion_warnings WITH (security_barrier) AS
SELECT w.project, w.hour, w.kind, w.occurrences
FROM (SELECT DISTINCT ON (project, hour, kind) *
      FROM tally.ingestion_warnings e
      WHERE e.generation = COALESCE(
          (SELECT r.generation FROM tally.generation_ranges r
           WHERE r.rolled_back_at IS NULL AND r.range_from <= e.hour
             AND e.hour + interval '1 hour' <= r.range_to
           ORDER BY r.applied_seq DESC LIMIT 1),
          (SELECT generation FROM tally.active_generation))
      ORDER BY project, hour, kind, revision DESC) w;

-- Which ranges analysts see repaired, for the analyst guide and the dashboard.
CREATE VIEW analytics.backfilled_ranges WITH (security_barrier) AS
SELECT generation, range_from, range_to, applied_at
FROM tally.generation_ranges WHERE rolled_back_at IS NULL;

ALTER VIEW analytics.freshness SET (security_barrier = true);
ALTER VIEW analytics.partition_lag SET (security_barrier = true);
GRANT SELECT ON analytics.backfilled_ranges TO tally_analyst, tally_auditor;
