-- Whom to tell about each application, from its submission; never the citizen's CPR number.
CREATE TABLE audience (
    application_id    uuid PRIMARY KEY,
    scheme            text NOT NULL,
    position_title    text NOT NULL,
    start_date        date NOT NULL,
    end_date          date NOT NULL,
    citizen_ref       text NOT NULL,
    citizen_language  text NOT NULL,
    employer_cvr      text NOT NULL,
    employer_name     text NOT NULL,
    employer_email    text,
    employer_language text NOT NULL
);

-- Integrators' webhooks. The secret signs every delivery (HMAC-SHA256), so it is kept as given.
CREATE TABLE subscription (
    id          uuid PRIMARY KEY,
    url         text NOT NULL,
    event_types text[] NOT NULL,
    secret      text NOT NULL,
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'failing', 'cancelled')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    changed_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per (fact or event, recipient, channel): the unique dedup key is what makes a notice exactly once.
-- Subject and body are kept only until sent. `next_attempt_at` doubles as the lease of a claimed delivery.
CREATE TABLE delivery (
    id              bigserial PRIMARY KEY,
    dedup_key       text NOT NULL UNIQUE,
    channel         text NOT NULL CHECK (channel IN ('email', 'digital_post', 'webhook')),
    recipient_role  text NOT NULL,
    address         text NOT NULL,
    subscription_id uuid REFERENCES subscription (id),
    language        text,
    template        text NOT NULL,
    subject         text,
    body            text,
    application_id  uuid,
    cause           jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'dead')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    CHECK ((channel = 'webhook') = (subscription_id IS NOT NULL))
);

CREATE INDEX delivery_due ON delivery (id) WHERE status = 'pending';
CREATE INDEX delivery_per_subscription ON delivery (subscription_id, id) WHERE status IN ('pending', 'dead');
