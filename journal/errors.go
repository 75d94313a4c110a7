package journal

import "errors"

// Sentinel errors. Backends wrap them with %w and the failing step so callers
// can test with errors.Is and users read what to do.
var (
	ErrUnknownStream  = errors.New("unknown stream")
	ErrBadStreamName  = errors.New("invalid stream name")
	ErrInvalidEntry   = errors.New("invalid entry")
	ErrCorrupt        = errors.New("corrupt journal data")
	ErrBadHash        = errors.New("invalid hash")
	ErrSeqOutOfRange  = errors.New("seq out of range")
	ErrBadTreeSize    = errors.New("invalid tree size")
	ErrNoCheckpoint   = errors.New("no signed checkpoint")
	ErrBadCheckpoint  = errors.New("invalid checkpoint")
	ErrBadSignature   = errors.New("checkpoint signature does not verify")
	ErrProofFailed    = errors.New("proof does not verify")
	ErrClosed         = errors.New("journal store is closed")
	ErrStoreFailed    = errors.New("journal store failed a write and must be reopened")
	ErrLocked         = errors.New("data dir is locked by another process")
	ErrNoDataDir      = errors.New("data dir does not exist")
	ErrEncryptionKey  = errors.New("encryption key problem")
	ErrVerifyMismatch = errors.New("journal verification failed")
	ErrBadSigningKey  = errors.New("invalid signing key")
)
