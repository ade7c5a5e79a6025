package bunstore

import "time"

// PurgeDeliveriesSQL returns the statement PurgeDeliveries runs, so tests
// can EXPLAIN exactly what it sends.
func PurgeDeliveriesSQL(s *Store, before time.Time, limit int) string {
	return s.purgeDeliveriesSQL(before, limit)
}

// StalledDeliveriesSQL returns the query StalledDeliveries runs, so tests
// can EXPLAIN exactly what it sends.
func StalledDeliveriesSQL(s *Store, before time.Time, after string, limit int) string {
	return s.stalledDeliveriesSQL(before, after, limit)
}
