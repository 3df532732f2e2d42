-- Crypto-shredding (jobbro/shredding.py): each citizen's personal data is stored sealed under a data key of their
-- own; erasing the citizen deletes the key, so every sealed copy (rows, dumps, backups) becomes unreadable while
-- the pseudonymous records that name the citizen by citizen_ref stay. Numbered 0005: 0004 is the access audit's.
CREATE TABLE citizen_keys (
    citizen_ref text        PRIMARY KEY,
    data_key    bytea       NOT NULL,  -- 32 random bytes (AES-256-GCM)
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- An erased citizen: no key is made for them again, and the operator's request is on record (no personal data).
CREATE TABLE citizen_erasures (
    citizen_ref  text        PRIMARY KEY,
    erasure_id   uuid        NOT NULL,
    reason       text        NOT NULL,
    requested_by text        NOT NULL,
    erased_at    timestamptz NOT NULL DEFAULT now()
);
