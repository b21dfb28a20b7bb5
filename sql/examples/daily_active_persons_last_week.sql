-- Daily active persons of one project over the last 7 days, with completeness.
-- Distinct persons per day come from the daily rows: they cannot be summed from hours.
SELECT day, persons, events, is_complete, is_final
FROM analytics.daily_active_persons
WHERE project = 'acme' AND day >= current_date - 6
ORDER BY day;
