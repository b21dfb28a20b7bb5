-- The analyst surface: the active generation only, newest revision of every row, each row
-- stamped with how complete and how final it is (SEMANTICS.md §9, docs/analysts.md).

CREATE SCHEMA IF NOT EXISTS analytics;

-- The newest commit of every subtask of every aggregate sink.
CREATE VIEW tally.latest_sink_commits AS
SELECT DISTINCT ON (generation, sink_id, subtask)
       generation, sink_id, subtask, checkpoint, parallelism, watermark_ms, prepared_at
FROM tally.sink_commits
ORDER BY generation, sink_id, subtask, checkpoint DESC;

-- complete_through = min over all subtasks of their committed watermark; NULL until every
-- subtask of the current parallelism has committed one.
CREATE VIEW tally.generation_freshness AS
WITH latest AS (
    SELECT l.*, max(l.checkpoint) OVER (PARTITION BY generation, sink_id) AS newest
    FROM tally.latest_sink_commits l
), current_parallelism AS (
    SELECT DISTINCT ON (generation, sink_id) generation, sink_id, parallelism
    FROM tally.sink_commits ORDER BY generation, sink_id, checkpoint DESC
)
SELECT g.generation,
       g.allowed_lateness_ms,
       CASE WHEN count(l.subtask) FILTER (WHERE l.subtask < p.parallelism) = p.parallelism
                 AND bool_and(l.watermark_ms IS NOT NULL) FILTER (WHERE l.subtask < p.parallelism)
            THEN min(l.watermark_ms) FILTER (WHERE l.subtask < p.parallelism) END AS complete_through_ms,
       max(l.prepared_at) AS last_commit_at
FROM tally.generations g
JOIN current_parallelism p ON p.generation = g.generation AND p.sink_id = 'aggregates'
JOIN latest l ON l.generation = g.generation AND l.sink_id = 'aggregates'
GROUP BY g.generation, g.allowed_lateness_ms, p.parallelism;

CREATE FUNCTION tally.ms_to_timestamptz(ms bigint) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN ms IS NULL THEN NULL
               WHEN ms >= 4102444800000 THEN 'infinity'::timestamptz
               ELSE to_timestamp(ms / 1000.0) END $$;

CREATE VIEW analytics.freshness AS
SELECT f.generation,
       tally.ms_to_timestamptz(f.complete_through_ms) AS complete_through,
       tally.ms_to_timestamptz(f.complete_through_ms - f.allowed_lateness_ms) AS final_through,
       CASE WHEN f.complete_through_ms IS NULL OR f.complete_through_ms >= 4102444800000 THEN NULL
            ELSE round(extract(epoch FROM now()) - f.complete_through_ms / 1000.0, 3) END AS staleness_seconds,
       f.last_commit_at
FROM tally.generation_freshness f
JOIN tally.active_generation a ON a.generation = f.generation;

CREATE VIEW analytics.event_counts AS
SELECT c.project, c.grain, c.window_start,
       c.window_start + CASE c.grain WHEN 'minute' THEN interval '1 minute' ELSE interval '1 hour' END AS window_end,
       c.event, c.events, c.persons, c.revision,
       (c.window_start + CASE c.grain WHEN 'minute' THEN interval '1 minute' ELSE interval '1 hour' END)
           <= COALESCE(f.complete_through, '-infinity') AS is_complete,
       (c.window_start + CASE c.grain WHEN 'minute' THEN interval '1 minute' ELSE interval '1 hour' END)
           <= COALESCE(f.final_through, '-infinity') AS is_final,
       f.complete_through AS as_of
FROM (SELECT DISTINCT ON (project, grain, window_start, event) *
      FROM tally.event_counts
      WHERE generation = (SELECT generation FROM tally.active_generation)
      ORDER BY project, grain, window_start, event, revision DESC) c
LEFT JOIN analytics.freshness f ON true;

CREATE VIEW analytics.breakdown_counts AS
SELECT b.project, b.window_start, b.window_start + interval '1 hour' AS window_end,
       b.event, b.property, b.value, b.events, b.persons, b.revision,
       b.window_start + interval '1 hour' <= COALESCE(f.complete_through, '-infinity') AS is_complete,
       b.window_start + interval '1 hour' <= COALESCE(f.final_through, '-infinity') AS is_final,
       f.complete_through AS as_of
FROM (SELECT DISTINCT ON (project, window_start, event, property, value) *
      FROM tally.breakdown_counts
      WHERE generation = (SELECT generation FROM tally.active_generation)
      ORDER BY project, window_start, event, property, value, revision DESC) b
LEFT JOIN analytics.freshness f ON true;

CREATE VIEW analytics.ledger AS
SELECT l.project, l.hour, l.consumed, l.aggregated, l.duplicates, l.too_late, l.dead_lettered,
       l.consumed = l.aggregated + l.duplicates + l.too_late + l.dead_lettered AS balanced
FROM (SELECT DISTINCT ON (project, hour) *
      FROM tally.ledger
      WHERE generation = (SELECT generation FROM tally.active_generation)
      ORDER BY project, hour, revision DESC) l;
