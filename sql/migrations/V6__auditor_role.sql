-- A read-only role for ./tally audit and monitoring: reads tally.* (ledger, offsets, commits) but
-- can write nothing. Login users are granted membership.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tally_auditor') THEN
        CREATE ROLE tally_auditor NOLOGIN;
    END IF;
END $$;

GRANT USAGE ON SCHEMA tally, analytics TO tally_auditor;
GRANT SELECT ON ALL TABLES IN SCHEMA tally TO tally_auditor;
GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO tally_auditor;
