-- The access audit (jobbro.audit): who read or changed which citizen's personal data through the API, and why.
-- Written in the transaction of the change (for a read: before the answer leaves), beside the outbox row that
-- carries the same record to the service's audit topic; queried by auditors, pruned by the retention job.
CREATE TABLE access_audit (
    access_id    uuid        PRIMARY KEY,
    at           timestamptz NOT NULL,
    actor        text        NOT NULL,
    roles        text[]      NOT NULL,
    municipality text,
    purpose      text        NOT NULL,
    action       text        NOT NULL,
    object_kind  text        NOT NULL,
    object_ref   text,
    citizen_refs text[]      NOT NULL,
    outcome      text        NOT NULL,
    route        text        NOT NULL
);
CREATE INDEX access_audit_at ON access_audit (at);
CREATE INDEX access_audit_citizens ON access_audit USING gin (citizen_refs);
