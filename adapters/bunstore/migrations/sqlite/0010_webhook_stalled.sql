-- 0010_webhook_stalled: the sweep of stalled webhook deliveries. The same
-- index as migrations/postgres/0010_webhook_stalled.sql, whose header
-- explains it. SQLite uses a partial index only when the query repeats
-- its WHERE term exactly, as StalledDeliveries does.

CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (next_attempt_at, id) WHERE state = 'pending';
