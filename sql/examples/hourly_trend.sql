-- Hourly trend of one event over the last 24 hours. Quote numbers with as_of; rows with
-- is_final = false may still grow (late events within the allowed lateness).
SELECT window_start, events, persons, is_complete, is_final, as_of
FROM analytics.event_counts
WHERE project = 'acme' AND grain = 'hour' AND event = 'signup'
  AND window_start >= date_trunc('hour', now()) - interval '23 hours'
ORDER BY window_start;
