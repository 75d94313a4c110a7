package queue

import "errors"

// Sentinel errors of the consumer groups. Every returned error wraps one of
// them (or a journal sentinel such as journal.ErrUnknownStream) with %w, and
// says what was wrong and what to do.
var (
	// ErrLeaseInactive rejects an Ack, Nack or Extend whose token is not the
	// entry's current lease: the lease expired, the entry was already acked,
	// nacked or dead-lettered, or it was leased again to someone else. The
	// call changed nothing for that token; drop it and lease again.
	ErrLeaseInactive = errors.New("lease is not active")
	// ErrUnknownGroup is returned for a group that has never leased from the
	// stream. A group is created by its first Lease.
	ErrUnknownGroup = errors.New("unknown consumer group")
	// ErrInvalidArgument is returned for an argument outside its documented
	// range (max <= 0, a lease longer than MaxLease, a malformed token, ...).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrClosed is returned by every call once the Manager is closed.
	ErrClosed = errors.New("queue manager is closed")
	// ErrCorruptState is returned when the durable group state cannot be
	// decoded or does not fit the journal (for example a group that has
	// admitted seqs the journal does not have).
	ErrCorruptState = errors.New("consumer group state is corrupt")
)
