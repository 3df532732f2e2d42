-- The stand-in back-office's own ledger: each idempotency key is paid at most once.
CREATE TABLE payments (
    idempotency_key text PRIMARY KEY,
    instruction_id  uuid        NOT NULL,
    amount_ore      bigint      NOT NULL,
    outcome         text        NOT NULL,
    decided_at      timestamptz NOT NULL DEFAULT now()
);
