-- Citizens' payee keys as benefits gave them (benefits.payee-keys.v1, wrapped under BACKOFFICE_PAYEE_KEY_KEKS):
-- they open the CPR numbers sealed on payment instructions. A tombstone nulls the key and keeps the reference (a
-- pseudonym) with the time, so the citizen's unpaid instructions fail instead of waiting for a key.
CREATE TABLE payee_keys (
    citizen_ref  text        PRIMARY KEY,
    wrapped_key  text,
    received_at  timestamptz NOT NULL DEFAULT now(),
    destroyed_at timestamptz,
    CHECK ((wrapped_key IS NULL) = (destroyed_at IS NOT NULL))
);
