// Package mysql captures changes from MariaDB binlogs (row format, full row
// images and row metadata, GTIDs) into the journal, with
// github.com/go-mysql-org/go-mysql's replication package.
//
// Positions are 20 bytes, the GTID domain (4), the GTID sequence number (8)
// and the entry's index in the transaction (8), big-endian, followed by the
// text of the GTID to resume after: the transaction's own GTID on its
// tx_commit, the previous transaction's on every other entry. Sequence
// numbers rise within a domain, so bytewise order is binlog order; a binlog
// with more than one GTID domain is refused until multi-domain ordering
// exists.
package mysql
