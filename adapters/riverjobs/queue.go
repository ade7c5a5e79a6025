package riverjobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/riverqueue/river"
)

// deliveryArgs are a webhook delivery job's arguments.
type deliveryArgs struct {
	DeliveryID string `json:"deliveryId"`
}

// Kind implements river.JobArgs.
func (deliveryArgs) Kind() string { return JobKind }

// Queue enqueues webhook delivery jobs, in the caller's transactions
// (EnqueueDeliveriesTx) or in its own (EnqueueDeliveries). It runs no job
// (see StartWorker) and is safe for concurrent use.
type Queue struct {
	client *river.Client[*sql.Tx]
	opts   river.InsertOpts
}

// NewQueue returns the Queue that inserts jobs into cfg.Queue on db, whose
// dialect is DialectPostgres (db on the pgx stdlib driver) or
// DialectSQLite. River's tables must exist (Migrate). Only cfg's Queue,
// MaxAttempts and Logger are read.
func NewQueue(db *sql.DB, dialect string, cfg Config) (*Queue, error) {
	if db == nil {
		return nil, errors.New("riverjobs: new queue: nil database")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	driver, err := insertDriver(db, dialect)
	if err != nil {
		return nil, err
	}
	client, err := river.NewClient(driver, riverConfig(cfg, nil))
	if err != nil {
		return nil, fmt.Errorf("riverjobs: new queue: %w", err)
	}
	return &Queue{
		client: client,
		opts: river.InsertOpts{
			Queue:       cfg.Queue,
			MaxAttempts: cfg.MaxAttempts,
			// One job per delivery while it is pending, running, waiting or
			// completed; the args are just the delivery id.
			UniqueOpts: river.UniqueOpts{ByArgs: true},
		},
	}, nil
}

// EnqueueDeliveriesTx enqueues one job per delivery id in tx, the
// transaction that stores the deliveries: the jobs become visible to
// workers when tx commits and vanish if it rolls back. An id whose job
// exists already (see the package documentation), or repeated in ids, is
// skipped. No ids is a no-op; an empty id is an error. Every statement
// goes through tx, so a single-connection SQLite pool is fine.
//
// After an error tx may hold part of the jobs (and on PostgreSQL it is
// aborted): roll it back.
func (q *Queue) EnqueueDeliveriesTx(ctx context.Context, tx *sql.Tx, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if tx == nil {
		return errors.New("riverjobs: enqueue deliveries: nil transaction")
	}
	params, err := q.params(ids)
	if err != nil {
		return err
	}
	if _, err := q.client.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("riverjobs: enqueue deliveries: %w", err)
	}
	return nil
}

// EnqueueDeliveries enqueues one job per delivery id, as
// EnqueueDeliveriesTx does, in a transaction of its own on the Queue's
// database: for deliveries stored already, whose job may have been lost
// (discarded after MaxAttempts handler errors, or deleted), such as the
// sweep of stalled deliveries hands over. A delivery whose job still
// exists (pending, running, waiting for a retry or a snooze, or completed
// less than 24 hours ago: see the package documentation) gets no second
// one, so ids whose job is merely late are harmless. No ids is a no-op;
// an empty id is an error and enqueues none of them. On SQLite's single
// connection the caller must hold no transaction of the same pool.
func (q *Queue) EnqueueDeliveries(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	params, err := q.params(ids)
	if err != nil {
		return err
	}
	if _, err := q.client.InsertMany(ctx, params); err != nil {
		return fmt.Errorf("riverjobs: enqueue deliveries: %w", err)
	}
	return nil
}

// params are the insert parameters of one unique job per id, repeats
// dropped: River refuses a batch holding one unique job twice (SQLite) or
// fails the statement (PostgreSQL). An empty id is an error.
func (q *Queue) params(ids []string) ([]river.InsertManyParams, error) {
	params := make([]river.InsertManyParams, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if id == "" {
			return nil, errors.New("riverjobs: enqueue deliveries: empty delivery id")
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		opts := q.opts
		params = append(params, river.InsertManyParams{Args: deliveryArgs{DeliveryID: id}, InsertOpts: &opts})
	}
	return params, nil
}
