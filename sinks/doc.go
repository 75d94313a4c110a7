// Package sinks will deliver a stream outward from a replay cursor: Pulsar
// topics per table and audit export files (JSONL / Avro OCF with a signed
// manifest).
//
// Allowed imports: replay, journal, schema.
package sinks
