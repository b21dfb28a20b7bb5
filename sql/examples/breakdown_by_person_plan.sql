-- Pageviews per person plan, hour by hour over the last 24 hours (breakdown person:plan).
SELECT window_start, value AS plan, events, persons, is_final
FROM analytics.breakdown_counts
WHERE project = 'acme' AND event = '$pageview' AND property = 'person:plan'
  AND window_start >= date_trunc('hour', now()) - interval '23 hours'
ORDER BY window_start, events DESC, plan;
