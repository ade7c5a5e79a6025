-- 0009_webhook_purge: the retention purge of webhook deliveries. The same
-- index as migrations/postgres/0009_webhook_purge.sql, whose header
-- explains it. SQLite uses a partial index only when the query repeats
-- its WHERE term exactly, as PurgeDeliveries does.

CREATE INDEX webhook_deliveries_finished_idx ON webhook_deliveries (updated_at, id) WHERE state <> 'pending';
