-- How fresh is everything? complete_through: all on-time events of windows ending before it are
-- counted; final_through: windows ending before it never change again.
SELECT generation, complete_through, final_through, staleness_seconds, last_commit_at
FROM analytics.freshness;
