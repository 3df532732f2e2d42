-- Applications: the columns the service queries by, and the aggregate itself (without any CPR number) as JSON.
CREATE TABLE applications (
    id              uuid        PRIMARY KEY,
    employer_cvr    text        NOT NULL,
    municipality    text        NOT NULL,
    production_unit text        NOT NULL,
    scheme          text        NOT NULL,
    state           text        NOT NULL,
    starts_on       date        NOT NULL,
    ends_on         date        NOT NULL,  -- the planned end, or the actual last day once ended
    deadline_at     timestamptz,           -- when the timer refers the case if it is still waiting
    aggregate       jsonb       NOT NULL,
    submitted_at    timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX applications_by_employer ON applications (employer_cvr, submitted_at DESC);
CREATE INDEX applications_by_municipality ON applications (municipality, submitted_at DESC);
CREATE INDEX applications_by_production_unit ON applications (production_unit);
CREATE INDEX applications_due ON applications (deadline_at) WHERE deadline_at IS NOT NULL;

-- Evidence: each signature exactly as received. The signed application contains the citizen's CPR number:
-- it is kept only here, never logged and never returned by the API.
CREATE TABLE signatures (
    application_id uuid        NOT NULL REFERENCES applications (id),
    purpose        text        NOT NULL,  -- application | final_confirmation
    jws            text        NOT NULL,
    signer         text        NOT NULL,
    cert_serial    numeric     NOT NULL,
    fingerprint    text        NOT NULL,
    alg            text        NOT NULL,
    signed_at      timestamptz NOT NULL,  -- the signer's claimed time (sigT)
    received_at    timestamptz NOT NULL,
    PRIMARY KEY (application_id, purpose)
);

-- History: one line per change, in order.
CREATE TABLE application_history (
    application_id uuid        NOT NULL REFERENCES applications (id),
    seq            integer     NOT NULL,
    at             timestamptz NOT NULL,
    action         text        NOT NULL,
    actor          text        NOT NULL,
    state          text        NOT NULL,
    note           text,
    PRIMARY KEY (application_id, seq)
);

-- Idempotent submission: a key is the employer's, and names the request body it was first used with.
CREATE TABLE idempotency_keys (
    employer_cvr   text        NOT NULL,
    key            text        NOT NULL,
    fingerprint    text        NOT NULL,
    application_id uuid        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (employer_cvr, key)
);

-- Monthly wage reports of wage-subsidy placements; a correction is another report for the same month.
CREATE TABLE wage_reports (
    report_id            uuid        PRIMARY KEY,
    application_id       uuid        NOT NULL REFERENCES applications (id),
    period_start         date        NOT NULL,
    period_end           date        NOT NULL,
    paid_hours           numeric(5, 2) NOT NULL,
    wage_costs_ore       bigint      NOT NULL,
    sickness_refunds_ore bigint      NOT NULL,
    submitted_at         timestamptz NOT NULL
);
CREATE INDEX wage_reports_by_application ON wage_reports (application_id, period_start);
