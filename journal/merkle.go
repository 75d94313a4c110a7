package journal

import (
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// LeafHash is the RFC 6962 leaf hash of an entry: SHA-256(0x00 || entry hash).
func LeafHash(entryHash Hash) Hash { return Hash(tlog.RecordHash(entryHash[:])) }

// StoredHashIndex is the position of a tree node in tlog's storage order.
func StoredHashIndex(level int, n uint64) int64 { return tlog.StoredHashIndex(level, int64(n)) }

// LeafForStoredHash returns the leaf index (0-based) whose append produced the
// stored hash at index, and the hash's position in that leaf's list of stored
// hashes (its level).
func LeafForStoredHash(index int64) (leaf uint64, level int) {
	level, n := tlog.SplitStoredHashIndex(index)
	return uint64((n+1)<<uint(level)) - 1, level
}

// CompactRange is the right edge of an RFC 6962 tree: the roots of the perfect
// subtrees that make up a tree of Size leaves, largest first. Appending a leaf
// returns the node hashes that become final, in tlog storage order.
type CompactRange struct {
	size  uint64
	stack []Hash
}

// Size is the number of leaves.
func (c *CompactRange) Size() uint64 { return c.size }

// Clone returns an independent copy.
func (c *CompactRange) Clone() *CompactRange {
	return &CompactRange{size: c.size, stack: append([]Hash(nil), c.stack...)}
}

// Append adds the leaf for an entry hash and returns the stored hashes it
// completes: the leaf hash (level 0) followed by each parent it closes.
func (c *CompactRange) Append(entryHash Hash, dst []Hash) []Hash {
	h := LeafHash(entryHash)
	dst = append(dst, h)
	for n := c.size; n&1 == 1; n >>= 1 {
		h = Hash(tlog.NodeHash(tlog.Hash(c.stack[len(c.stack)-1]), tlog.Hash(h)))
		c.stack = c.stack[:len(c.stack)-1]
		dst = append(dst, h)
	}
	c.stack = append(c.stack, h)
	c.size++
	return dst
}

// Root returns the RFC 6962 root of the tree (the zero hash for an empty tree,
// as tlog.TreeHash does).
func (c *CompactRange) Root() Hash {
	if len(c.stack) == 0 {
		return Hash{}
	}
	h := c.stack[len(c.stack)-1]
	for i := len(c.stack) - 2; i >= 0; i-- {
		h = Hash(tlog.NodeHash(tlog.Hash(c.stack[i]), tlog.Hash(h)))
	}
	return h
}

// HashReader reads stored tree hashes by tlog storage index.
type HashReader interface {
	ReadHashes(indexes []int64) ([]tlog.Hash, error)
}

// NewCompactRange rebuilds the right edge of a tree of size leaves from stored hashes.
func NewCompactRange(size uint64, r HashReader) (*CompactRange, error) {
	var idx []int64
	var prefix uint64
	for level := 63; level >= 0; level-- {
		if size&(1<<uint(level)) == 0 {
			continue
		}
		idx = append(idx, StoredHashIndex(level, prefix>>uint(level)))
		prefix += 1 << uint(level)
	}
	c := &CompactRange{size: size}
	if len(idx) == 0 {
		return c, nil
	}
	hs, err := r.ReadHashes(idx)
	if err != nil {
		return nil, fmt.Errorf("rebuild Merkle edge for size %d: %w", size, err)
	}
	for _, h := range hs {
		c.stack = append(c.stack, Hash(h))
	}
	return c, nil
}

// TreeRoot computes the root of the first size leaves from stored hashes.
func TreeRoot(size uint64, r HashReader) (Hash, error) {
	h, err := tlog.TreeHash(int64(size), r)
	if err != nil {
		return Hash{}, fmt.Errorf("tree root at size %d: %w", size, err)
	}
	return Hash(h), nil
}

// InclusionProof proves that the entry at Seq is in the tree of TreeSize leaves.
type InclusionProof struct {
	Stream    string
	Seq       uint64
	EntryHash Hash
	TreeSize  uint64
	Root      Hash
	Path      []Hash
}

// ConsistencyProof proves that the tree of FromSize leaves is a prefix of the
// tree of ToSize leaves.
type ConsistencyProof struct {
	Stream   string
	FromSize uint64
	ToSize   uint64
	FromRoot Hash
	ToRoot   Hash
	Path     []Hash
}

// ProveInclusion builds an inclusion proof for seq in a tree of treeSize leaves.
func ProveInclusion(stream string, seq, treeSize uint64, entryHash Hash, r HashReader) (InclusionProof, error) {
	if seq == 0 || seq > treeSize {
		return InclusionProof{}, fmt.Errorf("%w: seq %d is not in a tree of size %d", ErrSeqOutOfRange, seq, treeSize)
	}
	p, err := tlog.ProveRecord(int64(treeSize), int64(seq-1), r)
	if err != nil {
		return InclusionProof{}, fmt.Errorf("prove inclusion of seq %d in size %d: %w", seq, treeSize, err)
	}
	root, err := TreeRoot(treeSize, r)
	if err != nil {
		return InclusionProof{}, err
	}
	return InclusionProof{Stream: stream, Seq: seq, EntryHash: entryHash, TreeSize: treeSize, Root: root, Path: toHashes(p)}, nil
}

// ProveConsistency builds a consistency proof between two tree sizes.
func ProveConsistency(stream string, from, to uint64, r HashReader) (ConsistencyProof, error) {
	if from > to {
		return ConsistencyProof{}, fmt.Errorf("%w: from_size %d is larger than to_size %d", ErrBadTreeSize, from, to)
	}
	var path []Hash
	if from > 0 && from < to {
		p, err := tlog.ProveTree(int64(to), int64(from), r)
		if err != nil {
			return ConsistencyProof{}, fmt.Errorf("prove consistency %d..%d: %w", from, to, err)
		}
		path = toHashes(p)
	}
	fromRoot, err := TreeRoot(from, r)
	if err != nil {
		return ConsistencyProof{}, err
	}
	toRoot, err := TreeRoot(to, r)
	if err != nil {
		return ConsistencyProof{}, err
	}
	return ConsistencyProof{Stream: stream, FromSize: from, ToSize: to, FromRoot: fromRoot, ToRoot: toRoot, Path: path}, nil
}

// Verify checks the proof against its own root. Callers must also check that
// Root is the root of a trusted (signed) checkpoint of size TreeSize.
func (p InclusionProof) Verify() error {
	if p.Seq == 0 || p.Seq > p.TreeSize {
		return fmt.Errorf("%w: seq %d is not in a tree of size %d", ErrProofFailed, p.Seq, p.TreeSize)
	}
	if err := tlog.CheckRecord(fromHashes(p.Path), int64(p.TreeSize), tlog.Hash(p.Root), int64(p.Seq-1), tlog.Hash(LeafHash(p.EntryHash))); err != nil {
		return fmt.Errorf("%w: inclusion of seq %d in tree size %d: %v", ErrProofFailed, p.Seq, p.TreeSize, err)
	}
	return nil
}

// Verify checks the proof against its own roots. Callers must also check that
// FromRoot and ToRoot come from trusted checkpoints.
func (p ConsistencyProof) Verify() error {
	switch {
	case p.FromSize > p.ToSize:
		return fmt.Errorf("%w: from_size %d is larger than to_size %d", ErrProofFailed, p.FromSize, p.ToSize)
	case p.FromSize == p.ToSize:
		if p.FromRoot != p.ToRoot || len(p.Path) != 0 {
			return fmt.Errorf("%w: equal sizes %d with different roots", ErrProofFailed, p.FromSize)
		}
		return nil
	case p.FromSize == 0:
		if len(p.Path) != 0 {
			return fmt.Errorf("%w: a proof from size 0 has no path", ErrProofFailed)
		}
		return nil
	}
	if err := tlog.CheckTree(fromHashes(p.Path), int64(p.ToSize), tlog.Hash(p.ToRoot), int64(p.FromSize), tlog.Hash(p.FromRoot)); err != nil {
		return fmt.Errorf("%w: consistency %d..%d: %v", ErrProofFailed, p.FromSize, p.ToSize, err)
	}
	return nil
}

func toHashes[T ~[]tlog.Hash](p T) []Hash {
	out := make([]Hash, len(p))
	for i, h := range p {
		out[i] = Hash(h)
	}
	return out
}

func fromHashes(p []Hash) []tlog.Hash {
	out := make([]tlog.Hash, len(p))
	for i, h := range p {
		out[i] = tlog.Hash(h)
	}
	return out
}
