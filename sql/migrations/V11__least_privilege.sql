-- Nobody gets in where they don't belong (issue "Nothing a client sends…"): the logins of this
-- database can create neither temporary tables nor objects in the public schema. Analysts read the
-- analytics views only; the job writes tally.* only; neither needs TEMP or CREATE anywhere.
DO $$
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('REVOKE CREATE ON DATABASE %I FROM PUBLIC', current_database());
END $$;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
