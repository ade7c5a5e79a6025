package bunstore

import (
	"context"
	"database/sql"
)

// Test hooks for the external test package (bunstore_test), which cannot
// be internal: it imports buntest, which imports bunstore.

// RawDB returns the store's database/sql handle, for tests that install
// failure triggers or read schema_migrations. Bun's formatting is bypassed.
func RawDB(s *Store) *sql.DB { return s.db.DB }

// Translate is Store.fail.
func Translate(s *Store, ctx context.Context, op string, err error) error {
	return s.fail(ctx, op, err)
}

// MigrationVersions lists the versions embedded for dialect, in order.
func MigrationVersions(dialect string) ([]int64, error) {
	ms, err := migrations(dialect)
	if err != nil {
		return nil, err
	}
	vs := make([]int64, len(ms))
	for i, m := range ms {
		vs[i] = m.version
	}
	return vs, nil
}

// SQLiteDSN is sqliteDSN.
var SQLiteDSN = sqliteDSN
