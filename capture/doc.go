// Package capture holds the Source contract and the capture loop: read
// changes from a source, append them to the journal in batches, and tell
// the source which position is durable only after the journal says so.
//
// A Source delivers at-least-once, in commit order, with source positions
// that rise bytewise (see journal.Store); the journal's dedup rule turns
// that into exactly-once. Backends: capture/postgres (pgoutput), later
// capture/mysql (binlog).
//
// Allowed imports: journal, schema.
package capture
