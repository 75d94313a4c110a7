// Package postgres captures changes from PostgreSQL logical replication (pgoutput) into the journal.
package postgres
