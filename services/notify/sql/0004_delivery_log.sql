-- When a delivery's first attempt failed (it is retried for a set time after that) and when it was last attempted;
-- with the attempts and the last error they are a subscription's delivery log.
ALTER TABLE delivery ADD COLUMN failing_since timestamptz;
ALTER TABLE delivery ADD COLUMN last_attempt_at timestamptz;
-- The delivery log reads a subscription's deliveries newest first, whatever their status.
CREATE INDEX delivery_log ON delivery (subscription_id, id) WHERE subscription_id IS NOT NULL;
