// Package schema will derive Avro schemas from source table metadata, version
// them by canonical-form fingerprint, check compatibility and record every
// version as a journal entry so replays see the same schema history.
//
// schema imports no other Cairn package.
package schema
