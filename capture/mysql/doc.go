// Package mysql captures changes from MariaDB binlogs (row format, full row
// images and row metadata, GTIDs) into the journal, with
// github.com/go-mysql-org/go-mysql's replication package.
//
// Positions (gtid.go) are a format byte, the transaction's ordinal and
// the entry's index in the transaction; transaction frames (and a
// snapshot's first entry) add the text of the GTID state to resume after. The ordinal is the sum of the GTID state's sequence
// numbers over all replication domains, so positions rise in binlog order
// however many domains the binlog interleaves, and a restart resumes from
// the whole multi-domain state.
//
// Rows are stored as Avro of their table's derived schema, after a schema
// entry for each new table shape (schema.go).
package mysql
