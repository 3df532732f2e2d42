-- The transactional outbox: rows are written in the same transaction as the state change they announce,
-- and deleted by the relay once the broker has acknowledged them (acks=all).
CREATE TABLE outbox (
    id         bigserial PRIMARY KEY,
    event_id   uuid        NOT NULL UNIQUE,
    topic      text        NOT NULL,
    key        text        NOT NULL,
    value      bytea       NOT NULL,
    headers    jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The inbox: one row per (consumer, event) handled, written in the handler's transaction, so a redelivered
-- event is recognised and changes nothing.
CREATE TABLE inbox (
    consumer    text        NOT NULL,
    event_id    uuid        NOT NULL,
    handled_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
