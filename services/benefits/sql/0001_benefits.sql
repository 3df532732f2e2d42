-- The citizen benefit registry. The CPR number is stored only sealed (AES-GCM, bound to citizen_ref); the
-- citizen is found by citizen_ref, the keyed hash every service derives from the CPR number.
CREATE TABLE citizens (
    citizen_ref                             text PRIMARY KEY,
    cpr_sealed                              bytea       NOT NULL,
    municipality                            text        NOT NULL,
    benefit                                 text        NOT NULL,
    target_group                            text        NOT NULL,
    monthly_rate_ore                        bigint      NOT NULL CHECK (monthly_rate_ore >= 0),
    top_up_monthly_ore                      bigint      NOT NULL CHECK (top_up_monthly_ore >= 0),
    birth_date                              date        NOT NULL,
    unemployed_since                        date,
    single_parent                           boolean     NOT NULL,
    upper_secondary_or_vocational_education boolean     NOT NULL,
    newly_graduated                         boolean     NOT NULL,
    qualifying_education                    boolean,
    import_id                               uuid        NOT NULL,
    updated_at                              timestamptz NOT NULL DEFAULT now()
);

-- Each import that succeeded (a rejected one leaves no trace but its report).
CREATE TABLE citizen_imports (
    import_id   uuid PRIMARY KEY,
    source      text        NOT NULL,
    citizens    integer     NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now()
);

-- Confirmed placements, kept from subsidy's events: the benefit consequences and the employer's subsidy
-- need the period, the weekly hours and the employer. sector is null for an internship.
CREATE TABLE placements (
    application_id  uuid PRIMARY KEY,
    citizen_ref     text    NOT NULL,
    sector          text CHECK (sector IN ('private', 'public')),
    employer_cvr    text    NOT NULL,
    starts_on       date    NOT NULL,
    ends_on         date    NOT NULL,
    weekly_hours    jsonb   NOT NULL,
    ended           boolean NOT NULL DEFAULT false,
    recoverable_ore bigint  NOT NULL DEFAULT 0 CHECK (recoverable_ore >= 0)
);
CREATE INDEX placements_wage_subsidy_by_citizen ON placements (citizen_ref, starts_on) WHERE sector IS NOT NULL;

-- Every wage report received, with the subsidy it entitles the month to; a correction is the next revision.
CREATE TABLE wage_reports (
    report_id      uuid PRIMARY KEY,
    application_id uuid         NOT NULL REFERENCES placements,
    month          date         NOT NULL,
    revision       integer      NOT NULL CHECK (revision >= 1),
    paid_hours     numeric(5,2) NOT NULL,
    wage_costs_ore bigint       NOT NULL,
    refunds_ore    bigint       NOT NULL,
    payable_ore    bigint       NOT NULL CHECK (payable_ore >= 0),
    calculation    jsonb        NOT NULL,
    received_at    timestamptz  NOT NULL DEFAULT now(),
    UNIQUE (application_id, month, revision)
);

-- The ledger: every payment instruction issued, and what the back-office answered. The unique idempotency
-- key is what makes a repeated wage report or a re-run payment run issue nothing twice.
CREATE TABLE payment_instructions (
    instruction_id  uuid PRIMARY KEY,
    idempotency_key text        NOT NULL UNIQUE,
    purpose         text        NOT NULL,
    month           date        NOT NULL,
    period_start    date        NOT NULL,
    period_end      date        NOT NULL,
    amount_ore      bigint      NOT NULL CHECK (amount_ore > 0),
    due_on          date        NOT NULL,
    citizen_ref     text,
    application_id  uuid,
    payee_cvr       text,
    state           text        NOT NULL DEFAULT 'issued' CHECK (state IN ('issued', 'settled', 'failed', 'reissued')),
    settled_ore     bigint,
    settled_on      date,
    bank_reference  text,
    failure_code    text,
    failure_reason  text,
    replaces        uuid REFERENCES payment_instructions,
    issued_at       timestamptz NOT NULL DEFAULT now(),
    answered_at     timestamptz,
    CHECK ((citizen_ref IS NULL) <> (payee_cvr IS NULL))
);
CREATE INDEX payment_instructions_by_month ON payment_instructions (month, purpose);
