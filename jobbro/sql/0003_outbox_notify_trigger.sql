-- Wake the relays when outbox rows commit: the server sends the NOTIFY, so a transaction does not spend a
-- round trip on it (notifications are delivered at commit, and not at all on rollback).
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('jobbro_outbox', '');
    RETURN NULL;
END $$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
