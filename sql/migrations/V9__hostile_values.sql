-- Breakdown values of any length (SEMANTICS.md §7: counted whole, never truncated). A btree entry
-- holds at most ~2.7 kB, so a long value (a `$current_url`, a 4 kB `$browser`) in the primary key
-- failed the whole transaction ("index row size ... exceeds btree version 4 maximum") and with it
-- every checkpoint. Rows are now keyed by the SHA-256 of the value's UTF-8 bytes, computed by
-- PostgreSQL from the value kept beside it, so no writer can get the two out of step
-- (docs/decisions.md 30). event (≤ 200 code points) and property (a configured spec, ≤ 200 code
-- points) stay in the key as they are.
--
-- convert_to() is only STABLE (it depends on the database encoding, which never changes for a
-- database), so it is wrapped as IMMUTABLE for the generated column. Not text::bytea: that cast
-- parses backslash escapes and rejected the value `a\u0000b` (found by HostileInputIT).
CREATE FUNCTION tally.utf8_sha256(value text) RETURNS bytea
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
$$ SELECT sha256(convert_to(value, 'UTF8')) $$;

ALTER TABLE tally.breakdown_counts
    ADD COLUMN value_sha256 bytea GENERATED ALWAYS AS (tally.utf8_sha256(value)) STORED;
ALTER TABLE tally.breakdown_counts DROP CONSTRAINT breakdown_counts_pkey;
ALTER TABLE tally.breakdown_counts
    ADD CONSTRAINT breakdown_counts_pkey
    PRIMARY KEY (generation, project, window_start, event, property, value_sha256, revision);
