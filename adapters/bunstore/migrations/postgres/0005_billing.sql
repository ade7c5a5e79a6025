-- 0005_billing: what billing sync keeps beyond the subscriptions.
--
-- billing_customers maps each profile's product line to its customer at the
-- payment provider (Stripe): one customer per profile and line, and a
-- customer belongs to one profile and line only.
--
-- payment_events is the durable inbox of the provider's webhook events: an
-- event is recorded (its id unique, so a resent event is a no-op) before the
-- delivery is acknowledged, then applied once; applied_at is written in the
-- same transaction as the subscription change it causes. Unapplied events
-- are retried with backoff (next_attempt_at) by the billing job until they
-- apply, or until too many attempts have failed: then dead_at marks the
-- event dead (never retried; kept, with last_error, for operators). Only
-- ids are kept, never the payload: the state is fetched again when
-- applying.
--
-- subscriptions.provider_synced_at is when the provider state a
-- subscription row holds was read, by the database's clock
-- (clock_timestamp(), shared by every instance): a state read earlier
-- never replaces it, so events may be applied in any order.
--
-- simulated_payments (below) serves the embedded default only.

CREATE TABLE billing_customers (
    profile_id  TEXT COLLATE "C" NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    line        TEXT NOT NULL,
    customer_id TEXT COLLATE "C" NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT billing_customers_pkey PRIMARY KEY (profile_id, line),
    CONSTRAINT billing_customers_customer_id_key UNIQUE (customer_id)
);

CREATE TABLE payment_events (
    id                  TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    type                TEXT NOT NULL,
    created             TIMESTAMPTZ NOT NULL,
    checkout_session_id TEXT NOT NULL,
    subscription_id     TEXT NOT NULL,
    customer_id         TEXT NOT NULL,
    received_at         TIMESTAMPTZ NOT NULL,
    applied_at          TIMESTAMPTZ NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     TIMESTAMPTZ NOT NULL,
    last_error          TEXT NOT NULL DEFAULT '',
    dead_at             TIMESTAMPTZ NULL
);

-- The retry job's scan: unapplied events by due time.
CREATE INDEX payment_events_due_idx ON payment_events (next_attempt_at, id) WHERE applied_at IS NULL AND dead_at IS NULL;

ALTER TABLE subscriptions ADD COLUMN provider_synced_at TIMESTAMPTZ NULL;

-- simulated_payments holds the objects of the embedded default's simulated
-- payment provider (adapters/localbilling: customers, checkouts,
-- subscriptions, invoices…) as that adapter's JSON, so that the API, its
-- workers and restarts all see one provider. Unused with Stripe.
CREATE TABLE simulated_payments (
    kind        TEXT NOT NULL,
    id          TEXT COLLATE "C" NOT NULL,
    customer_id TEXT COLLATE "C" NOT NULL,
    data        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT simulated_payments_pkey PRIMARY KEY (kind, id)
);

CREATE INDEX simulated_payments_customer_idx ON simulated_payments (kind, customer_id, created_at DESC, id DESC);
