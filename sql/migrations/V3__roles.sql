-- Least privilege (docs/operations.md): the job writes through tally_writer; analysts read the
-- analytics views through tally_analyst and can neither write nor read tally.* directly.
-- Both are NOLOGIN group roles; login users are granted membership (./tally stack does this).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tally_writer') THEN
        CREATE ROLE tally_writer NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tally_analyst') THEN
        CREATE ROLE tally_analyst NOLOGIN;
    END IF;
END $$;

REVOKE ALL ON SCHEMA tally FROM PUBLIC;
REVOKE ALL ON SCHEMA analytics FROM PUBLIC;

GRANT USAGE ON SCHEMA tally TO tally_writer;
GRANT SELECT, INSERT ON tally.event_counts, tally.breakdown_counts, tally.ledger, tally.sink_commits TO tally_writer;
GRANT DELETE ON tally.event_counts, tally.breakdown_counts, tally.ledger, tally.sink_commits TO tally_writer;
GRANT SELECT, INSERT ON tally.generations TO tally_writer;
GRANT SELECT ON tally.active_generation TO tally_writer;
GRANT SELECT ON tally.latest_sink_commits, tally.generation_freshness TO tally_writer;

-- Views run with their owner's rights, so analysts need nothing in schema tally.
GRANT USAGE ON SCHEMA analytics TO tally_analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO tally_analyst;
GRANT EXECUTE ON FUNCTION tally.ms_to_timestamptz(bigint) TO tally_analyst;
