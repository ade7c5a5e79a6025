-- 0009_webhook_purge: the retention purge of webhook deliveries
-- (PurgeDeliveries). Finished deliveries (delivered, or failed for good)
-- are deleted with their attempts some time after they were last updated,
-- oldest first; pending ones are never deleted. This partial index holds
-- the finished ones only, in the purge's order, so each batch reads its
-- rows off the front of the index without a sort and without passing over
-- the pending ones. The purge repeats its predicate word for word.

CREATE INDEX webhook_deliveries_finished_idx ON webhook_deliveries (updated_at, id) WHERE state <> 'pending';
