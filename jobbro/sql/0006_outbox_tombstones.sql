-- A tombstone (an event whose record value is null, `contracts.envelope.Event.tombstone`) goes through the outbox
-- like any event: benefits forgets an erased citizen's payee key on its compacted topic so (docs/privacy.md).
ALTER TABLE outbox ALTER COLUMN value DROP NOT NULL;
ALTER TABLE outbox_rejected ALTER COLUMN value DROP NOT NULL;
