// Package capture will hold the Source contract, source positions and the
// capture loop that appends changes to the journal and acknowledges the
// source only up to the last durable entry. Backends live in
// capture/postgres (pgoutput) and capture/mysql (binlog).
//
// Allowed imports: journal, schema.
package capture
