// Package replay will provide cursors over the journal: ordered subscriptions
// from a seq or a named checkpoint, filters, transaction-complete delivery,
// and consumer groups with leases, acks, nacks and dead letters.
//
// Allowed imports: journal, schema.
package replay
