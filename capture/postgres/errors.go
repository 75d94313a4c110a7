package postgres

import "errors"

// Sentinel errors of the PostgreSQL source; wrapped with what to do.
var (
	ErrWALLevel     = errors.New("wal_level is not logical")
	ErrPrivilege    = errors.New("role lacks the REPLICATION privilege")
	ErrUnknownTable = errors.New("table does not exist")
	ErrSlotLost     = errors.New("replication slot is lost")
	ErrSlotMismatch = errors.New("replication slot does not fit this source")
	ErrProtocol     = errors.New("unexpected replication message")
)
