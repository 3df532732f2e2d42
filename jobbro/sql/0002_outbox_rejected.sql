-- Outbox rows the broker will never take (too large for it, an invalid topic name): moved here by the relay, so
-- they do not block the rows behind them, and kept for an operator with the broker's reason.
CREATE TABLE outbox_rejected (
    id          bigint      PRIMARY KEY,
    event_id    uuid        NOT NULL UNIQUE,
    topic       text        NOT NULL,
    key         text        NOT NULL,
    value       bytea       NOT NULL,
    headers     jsonb       NOT NULL,
    created_at  timestamptz NOT NULL,
    error       text        NOT NULL,
    rejected_at timestamptz NOT NULL DEFAULT now()
);
