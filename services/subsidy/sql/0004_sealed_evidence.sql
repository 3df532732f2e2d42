-- A signed document naming a citizen (the application with its CPR number, the naming of the citizen of a
-- position) is kept sealed under that citizen's data key (jobbro/shredding.py): erasing the citizen leaves the
-- evidence unreadable, its digest, signer and times still on record. Other signatures stay as received.
-- Numbered 0004: 0003 is another change's. Rows kept before this stay in `jws` until they are sealed (docs/privacy.md).
ALTER TABLE signatures
    ALTER COLUMN jws DROP NOT NULL,
    ADD COLUMN citizen_ref text,
    ADD COLUMN jws_sealed  bytea,
    ADD CONSTRAINT signatures_clear_or_sealed
        CHECK ((jws IS NULL) = (jws_sealed IS NOT NULL) AND (jws_sealed IS NULL) = (citizen_ref IS NULL));
