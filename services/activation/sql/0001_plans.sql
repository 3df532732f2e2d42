-- One row per citizen the service has met: the row every handler that publishes about the citizen locks,
-- so the citizen's plan events leave the outbox in order. The birth date comes from the CPR number of an
-- application; the CPR number itself is not kept.
CREATE TABLE citizens (
    citizen_ref text PRIMARY KEY,
    birth_date  date
);

-- Applications as submitted, kept only to check later applications of the same citizen against the ones
-- still being decided (status 'pending').
CREATE TABLE applications (
    application_id uuid PRIMARY KEY,
    citizen_ref    text NOT NULL REFERENCES citizens,
    scheme         text NOT NULL,
    period_start   date NOT NULL,
    period_end     date NOT NULL,
    employer_cvr   text NOT NULL,
    status         text NOT NULL
);
CREATE INDEX applications_pending ON applications (citizen_ref) WHERE status = 'pending';

-- The citizen's plan (Min Plan): one entry per confirmed placement, with its terms as they are now.
-- `last_day` and `outcome` are set when it ends; an entry without them runs to `planned_end`.
CREATE TABLE plan_entries (
    application_id  uuid PRIMARY KEY,
    activation_id   uuid NOT NULL UNIQUE,
    citizen_ref     text NOT NULL REFERENCES citizens,
    scheme          text NOT NULL,
    period_start    date NOT NULL,
    planned_end     date NOT NULL,
    weekly_hours    jsonb NOT NULL,
    employment_goal text NOT NULL,
    employer_cvr    text NOT NULL,
    production_unit text NOT NULL,
    employer_name   text NOT NULL,
    last_day        date,
    outcome         text,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX plan_entries_citizen ON plan_entries (citizen_ref);

-- Updates to a placement that arrived before its confirmation; applied, oldest first, when it arrives.
CREATE TABLE parked_updates (
    id             bigserial PRIMARY KEY,
    application_id uuid NOT NULL,
    event_type     text NOT NULL,
    payload        jsonb NOT NULL,
    parked_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX parked_updates_application ON parked_updates (application_id);

-- What benefits assessed about a citizen: the facts the offer deadline and the statistics need. The deadline
-- itself is computed when read, from the rule data in force.
CREATE TABLE assessments (
    assessment_id            uuid PRIMARY KEY,
    seq                      bigserial NOT NULL,
    citizen_ref              text NOT NULL,
    application_id           uuid NOT NULL,
    assessed_on              date NOT NULL,
    target_group             text NOT NULL,
    unemployed_weeks         integer NOT NULL,
    has_qualifying_education boolean,
    municipality_code        text
);
CREATE INDEX assessments_citizen ON assessments (citizen_ref, assessed_on DESC, seq DESC);
