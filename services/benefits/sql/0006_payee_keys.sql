-- Payee keys (services/benefits/payees.py): each paid citizen's key sealing their CPR number on payment instructions
-- for the back-office, wrapped under the data-key KEK (BENEFITS_DATA_KEY_KEKS). Erasing the citizen deletes the row
-- and tombstones the key on benefits.payee-keys.v1. Numbered 0006: 0005 is another change's.
CREATE TABLE payee_keys (
    citizen_ref text        PRIMARY KEY,
    payee_key   bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
