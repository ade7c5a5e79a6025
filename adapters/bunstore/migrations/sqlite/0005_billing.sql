-- 0005_billing: billing customers, the payment event inbox, the fetch
-- time of each subscription's provider state and the simulated provider's
-- objects. The same schema as
-- migrations/postgres/0005_billing.sql, whose header explains it.

CREATE TABLE billing_customers (
    profile_id  TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    line        TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (profile_id, line),
    CONSTRAINT billing_customers_customer_id_key UNIQUE (customer_id)
);

CREATE TABLE payment_events (
    id                  TEXT NOT NULL PRIMARY KEY,
    type                TEXT NOT NULL,
    created             TIMESTAMP NOT NULL,
    checkout_session_id TEXT NOT NULL,
    subscription_id     TEXT NOT NULL,
    customer_id         TEXT NOT NULL,
    received_at         TIMESTAMP NOT NULL,
    applied_at          TIMESTAMP NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     TIMESTAMP NOT NULL,
    last_error          TEXT NOT NULL DEFAULT '',
    dead_at             TIMESTAMP NULL
);

CREATE INDEX payment_events_due_idx ON payment_events (next_attempt_at, id) WHERE applied_at IS NULL AND dead_at IS NULL;

ALTER TABLE subscriptions ADD COLUMN provider_synced_at TIMESTAMP NULL;

CREATE TABLE simulated_payments (
    kind        TEXT NOT NULL,
    id          TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    data        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (kind, id)
);

CREATE INDEX simulated_payments_customer_idx ON simulated_payments (kind, customer_id, created_at DESC, id DESC);
