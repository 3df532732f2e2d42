-- Each stored change of an application counts up its version: its `ETag`, so that a change sent with `If-Match`
-- from a page read before another's change is refused (412) instead of overwriting it unseen.
ALTER TABLE applications ADD COLUMN version bigint NOT NULL DEFAULT 1;
