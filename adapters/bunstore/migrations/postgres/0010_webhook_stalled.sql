-- 0010_webhook_stalled: the sweep of stalled webhook deliveries
-- (StalledDeliveries). A pending delivery whose job was lost (River
-- discarded it after its last attempt, or its row was deleted) would stay
-- pending for ever; a periodic job lists the pending deliveries due long
-- ago and queues them again. This partial index holds the pending ones
-- only, in the sweep's order, so each page reads its rows off the front
-- of the index (or from a cursor's place in it) without a sort and
-- without passing over the finished ones, which are most of the table.
-- The sweep repeats its predicate word for word.

CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (next_attempt_at, id) WHERE state = 'pending';
