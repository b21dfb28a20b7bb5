-- Last hour of minute counts for one event, with how complete each minute is.
SELECT window_start, events, persons, is_complete, is_final, as_of
FROM analytics.event_counts
WHERE project = 'acme' AND grain = 'minute' AND event = '$pageview'
  AND window_start >= now() - interval '1 hour'
ORDER BY window_start;
