package journal

import (
	"context"
	"fmt"
)

// Store is the journal contract every backend implements (badgerstore,
// pulsarstore). journaltest.RunConformance checks it.
//
// Append rules, for every backend:
//   - Entries get seq = head+1, head+2, ... in the order given; Stream, Seq and
//     PrevHash are set by the store (a non-empty Stream must match the stream).
//   - An entry with a SourcePosition at or below the stream's high-water
//     position (bytewise comparison) is a duplicate. An entry with a
//     ProducerID whose (ProducerID, ProducerSeq) was appended before is a
//     duplicate. A duplicate is not written; its result carries the seq
//     originally assigned and Duplicate = true.
//   - Append returns only when every written entry is durable. Concurrent
//     callers share syncs (group commit).
type Store interface {
	Append(ctx context.Context, stream string, entries []Entry) ([]AppendResult, error)
	// Read returns up to limit durable records starting at from (seq >= 1).
	// Reading at or past the head returns no records and no error.
	Read(ctx context.Context, stream string, from uint64, limit int) ([]Record, error)
	// Head returns the durable end of a stream; ErrUnknownStream if it has never been appended to.
	Head(ctx context.Context, stream string) (Head, error)
	// Wait blocks until the stream's head is past after (or ctx ends), then returns the head.
	// Waiting on a stream that does not exist yet waits for its first entry.
	Wait(ctx context.Context, stream string, after uint64) (Head, error)
	// Streams lists every stream's head, ordered by name.
	Streams(ctx context.Context) ([]Head, error)
	// HighWater returns the stream's highest durable source position (nil if none).
	HighWater(ctx context.Context, stream string) ([]byte, error)
	// Checkpoint returns a signed checkpoint at the current head, signing a new one if the latest is older.
	Checkpoint(ctx context.Context, stream string) (SignedCheckpoint, error)
	// LatestCheckpoint returns the latest stored signed checkpoint without signing; ErrNoCheckpoint if none.
	LatestCheckpoint(ctx context.Context, stream string) (SignedCheckpoint, error)
	// InclusionProof proves seq is in the tree of treeSize leaves (treeSize 0 = head).
	InclusionProof(ctx context.Context, stream string, seq, treeSize uint64) (InclusionProof, error)
	// ConsistencyProof proves the tree of from leaves is a prefix of the tree of to leaves (to 0 = head).
	ConsistencyProof(ctx context.Context, stream string, from, to uint64) (ConsistencyProof, error)
	// VerifierKey is the public note key that verifies this store's checkpoints.
	VerifierKey() string
	Close() error
}

// ReadRange checks a Read request (from >= 1, limit > 0) against a stream
// whose durable head is head, and returns the last seq to read; ok is
// false when from is past the head (nothing to read).
func ReadRange(from uint64, limit int, head uint64) (last uint64, ok bool, err error) {
	if from == 0 {
		return 0, false, fmt.Errorf("%w: seq starts at 1, got 0", ErrSeqOutOfRange)
	}
	if limit <= 0 {
		return 0, false, fmt.Errorf("%w: limit %d must be positive", ErrSeqOutOfRange, limit)
	}
	if from > head {
		return 0, false, nil
	}
	last = head
	if uint64(limit) < last-from+1 {
		last = from + uint64(limit) - 1
	}
	return last, true, nil
}
