-- The hop benchmark's state: one row per event passed through, written in the handler's transaction.
CREATE TABLE hop_state (
    event_id uuid PRIMARY KEY,
    key      text NOT NULL
);
