package journal

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// RawRecord is one entry as a backend stores it, for offline verification.
type RawRecord struct {
	Seq        uint64 // the seq the backend filed the entry under
	EntryBytes []byte // prev_hash || canonical(entry)
	Hash       Hash   // the hash the backend stored beside the entry, if HasHash
	HasHash    bool
	HashPrefix []byte // a prefix of the entry hash the backend stored, if any
	TreeHashes []Hash // Merkle node hashes at levels 1.. the backend stored for this leaf (nil: none stored)
}

// VerifyError names the first entry that failed verification.
type VerifyError struct {
	Stream string
	Seq    uint64
	What   string
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("stream %s: seq %d: %s", e.Stream, e.Seq, e.What)
}

// Unwrap makes errors.Is(err, ErrVerifyMismatch) true.
func (e *VerifyError) Unwrap() error { return ErrVerifyMismatch }

// Verifier recomputes a stream's chain and Merkle tree from its raw records,
// in order, and reports the first mismatch.
type Verifier struct {
	stream    string
	next      uint64
	prev      Hash
	cr        CompactRange
	wantRoots map[uint64]Hash
	scratch   []Hash
	// Strict also decodes every entry fully (slower); otherwise the
	// header fields (prev_hash, version, stream, seq) are checked and the
	// rest is covered by the hash.
	Strict bool
}

// NewVerifier starts verification of stream at seq 1.
func NewVerifier(stream string) *Verifier {
	return &Verifier{stream: stream, next: 1, wantRoots: map[uint64]Hash{}}
}

// WantRoot asks the verifier to remember the Merkle root at size (see RootAt).
func (v *Verifier) WantRoot(size uint64) { v.wantRoots[size] = Hash{} }

// RootAt returns the root recorded at size, if size was asked for and reached.
func (v *Verifier) RootAt(size uint64) (Hash, bool) {
	if size == 0 {
		return Hash{}, true
	}
	h, ok := v.wantRoots[size]
	return h, ok && size <= v.cr.size
}

// Count is the number of entries verified so far.
func (v *Verifier) Count() uint64 { return v.next - 1 }

// Head is the hash of the last verified entry.
func (v *Verifier) Head() Hash { return v.prev }

// Root is the Merkle root over the verified entries.
func (v *Verifier) Root() Hash { return v.cr.Root() }

func (v *Verifier) fail(seq uint64, format string, args ...any) error {
	return &VerifyError{Stream: v.stream, Seq: seq, What: fmt.Sprintf(format, args...)}
}

// Add verifies the next record.
func (v *Verifier) Add(r RawRecord) error {
	h, err := v.hashRecord(r)
	return v.addHashed(r, h, err)
}

// hashRecord is the part of Add that depends on the record alone (header
// checks and hashing), so VerifyStream can run it on several cores.
func (v *Verifier) hashRecord(r RawRecord) (Hash, error) {
	b := r.EntryBytes
	if err := v.checkHeader(r.Seq, b); err != nil {
		return Hash{}, err
	}
	if v.Strict {
		if _, err := DecodeEntryBytes(b); err != nil {
			return Hash{}, v.fail(r.Seq, "entry does not decode: %v", err)
		}
	}
	h := HashEntryBytes(b)
	if r.HasHash && h != r.Hash {
		return h, v.fail(r.Seq, "entry hash mismatch: stored %s, recomputed %s", r.Hash, h)
	}
	if len(r.HashPrefix) > 0 && !bytes.Equal(r.HashPrefix, h[:min(len(r.HashPrefix), HashSize)]) {
		return h, v.fail(r.Seq, "entry bytes changed since append: recorded hash prefix %x, recomputed hash %s", r.HashPrefix, h)
	}
	return h, nil
}

// addHashed is the sequential part of Add: order, chain link and Merkle tree.
func (v *Verifier) addHashed(r RawRecord, h Hash, hashErr error) error {
	if r.Seq != v.next {
		if r.Seq > v.next {
			return v.fail(v.next, "missing: the next stored entry is seq %d", r.Seq)
		}
		return v.fail(r.Seq, "out of order: expected seq %d", v.next)
	}
	if hashErr != nil {
		return hashErr
	}
	b := r.EntryBytes
	if !bytes.Equal(b[:HashSize], v.prev[:]) {
		return v.fail(r.Seq, "chain broken: prev_hash %x does not match the hash of seq %d (%s)", b[:HashSize], r.Seq-1, v.prev)
	}
	v.scratch = v.cr.Append(h, v.scratch[:0])
	if r.TreeHashes != nil {
		if len(r.TreeHashes) != len(v.scratch)-1 {
			return v.fail(r.Seq, "Merkle hashes: stored %d, expected %d", len(r.TreeHashes), len(v.scratch)-1)
		}
		for i, th := range r.TreeHashes {
			if v.scratch[i+1] != th {
				return v.fail(r.Seq, "Merkle hash at level %d mismatch: stored %s, recomputed %s", i+1, th, v.scratch[i+1])
			}
		}
	}
	v.prev = h
	v.next++
	if _, ok := v.wantRoots[v.cr.size]; ok {
		v.wantRoots[v.cr.size] = v.cr.Root()
	}
	return nil
}

// checkHeader parses prev_hash, version, stream and seq without allocating.
func (v *Verifier) checkHeader(seq uint64, b []byte) error {
	if len(b) < HashSize+1+4 {
		return v.fail(seq, "entry is only %d bytes", len(b))
	}
	if b[HashSize] != EncodingVersion {
		return v.fail(seq, "unknown encoding version %d", b[HashSize])
	}
	off := HashSize + 1
	n := int(binary.BigEndian.Uint32(b[off:]))
	off += 4
	if n > len(b)-off-8 {
		return v.fail(seq, "stream name length %d runs past the entry", n)
	}
	if string(b[off:off+n]) != v.stream {
		return v.fail(seq, "entry names stream %q", b[off:off+n])
	}
	off += n
	if got := binary.BigEndian.Uint64(b[off:]); got != seq {
		return v.fail(seq, "entry carries seq %d", got)
	}
	return nil
}

// CheckCheckpoint checks that a verified checkpoint matches the recomputed tree.
// The checkpoint's size must have been registered with WantRoot before Add.
func (v *Verifier) CheckCheckpoint(c Checkpoint) error {
	if c.Size > v.cr.size {
		return &VerifyError{Stream: v.stream, Seq: c.Size, What: fmt.Sprintf("signed checkpoint covers %d entries but the journal holds only %d (entries lost or truncated)", c.Size, v.cr.size)}
	}
	root, ok := v.RootAt(c.Size)
	if !ok {
		return fmt.Errorf("verifier: root at size %d was not recorded (call WantRoot first)", c.Size)
	}
	if root != c.Root {
		return &VerifyError{Stream: v.stream, Seq: c.Size, What: fmt.Sprintf("Merkle root at size %d is %s but the signed checkpoint says %s", c.Size, root, c.Root)}
	}
	return nil
}

// RawSource is what VerifyStream needs from a backend.
type RawSource interface {
	Head(ctx context.Context, stream string) (Head, error)
	LatestCheckpoint(ctx context.Context, stream string) (SignedCheckpoint, error)
	ScanRaw(ctx context.Context, stream string, from uint64, fn func(RawRecord) error) error
}

// VerifyResult summarises a verified stream.
type VerifyResult struct {
	Stream     string
	Entries    uint64
	Head       Hash
	Root       Hash
	Checkpoint *Checkpoint // the signed checkpoint that was checked, nil if the stream has none
}

// VerifyStream recomputes every hash, link and Merkle node of stream, checks
// the head the backend reports, and checks the latest signed checkpoint
// against verifierKey. progress (may be nil) is called with the running count.
func VerifyStream(ctx context.Context, src RawSource, stream, verifierKey string, strict bool, progress func(uint64)) (VerifyResult, error) {
	res := VerifyResult{Stream: stream}
	head, err := src.Head(ctx, stream)
	if err != nil {
		return res, err
	}
	var ckpt *Checkpoint
	sc, err := src.LatestCheckpoint(ctx, stream)
	switch {
	case err == nil:
		c, err := OpenCheckpoint(sc.Note, verifierKey)
		if err != nil {
			return res, fmt.Errorf("stream %s: latest checkpoint (size %d): %w", stream, sc.Size, err)
		}
		if !strings.HasSuffix(c.Origin, "/"+stream) {
			return res, fmt.Errorf("%w: stream %s: checkpoint origin %q names another log", ErrBadCheckpoint, stream, c.Origin)
		}
		ckpt = &c
	case errors.Is(err, ErrNoCheckpoint):
	default:
		return res, err
	}
	v := NewVerifier(stream)
	v.Strict = strict
	if ckpt != nil {
		v.WantRoot(ckpt.Size)
	}
	err = verifyParallel(ctx, src, stream, v, progress)
	res.Entries, res.Head, res.Root = v.Count(), v.Head(), v.Root()
	if err != nil {
		return res, err
	}
	if v.Count() != head.Seq {
		return res, &VerifyError{Stream: stream, Seq: v.Count() + 1, What: fmt.Sprintf("missing: the head says %d entries but only %d are stored", head.Seq, v.Count())}
	}
	if v.Head() != head.Hash {
		return res, &VerifyError{Stream: stream, Seq: head.Seq, What: fmt.Sprintf("head hash mismatch: the head record says %s, recomputed %s", head.Hash, v.Head())}
	}
	if ckpt != nil {
		if err := v.CheckCheckpoint(*ckpt); err != nil {
			return res, err
		}
		res.Checkpoint = ckpt
	}
	return res, nil
}
