package mysql

import "errors"

// Sentinel errors of the MariaDB source, wrapped with what to do.
var (
	ErrServerSettings = errors.New("server settings do not allow row capture")
	ErrUnsupported    = errors.New("unsupported server setup")
	ErrUnknownTable   = errors.New("table does not exist")
	ErrBinlogPurged   = errors.New("binlog needed to continue was purged")
	ErrProtocol       = errors.New("unexpected binlog event")
)
