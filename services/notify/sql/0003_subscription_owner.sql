-- Who made a subscription (the identity provider's subject of the integrator) and whether that integrator held
-- the grant to receive fields the catalog marks sensitive. Subscriptions made before owners were recorded have
-- none: only an operator can still see them, and they receive no sensitive fields.
ALTER TABLE subscription ADD COLUMN owner text;
ALTER TABLE subscription ADD COLUMN sensitive_fields boolean NOT NULL DEFAULT false;
