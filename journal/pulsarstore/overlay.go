package pulsarstore

import (
	"fmt"
	"sync"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/cairnlog/cairn/journal"
)

// overlay holds the index records of a stream that the broker acknowledged
// and that are published, but that the writer's flusher has not written to
// the local index yet: a contiguous run of seqs at the head. Reads look
// here first. Records leave it only after they are in the cache, so every
// seq below the overlay's first is in the cache.
type overlay struct {
	mu   sync.RWMutex
	recs []indexRec
}

func (o *overlay) add(recs []indexRec) {
	o.mu.Lock()
	o.recs = append(o.recs, recs...)
	o.mu.Unlock()
}

// trim drops records up to seq through (they are in the cache now).
func (o *overlay) trim(through uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	i := 0
	for i < len(o.recs) && o.recs[i].seq <= through {
		i++
	}
	o.recs = append([]indexRec(nil), o.recs[i:]...)
}

// snapshot returns the first seq held (0 if empty) and the records; the
// records are never modified after add, so the slice may be read freely.
func (o *overlay) snapshot() (uint64, []indexRec) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if len(o.recs) == 0 {
		return 0, nil
	}
	return o.recs[0].seq, o.recs[:len(o.recs):len(o.recs)]
}

func (r *indexRec) stored() storedRec {
	s := storedRec{hash: r.hash, pos: r.pos}
	for _, h := range r.nodes {
		s.nodes = append(s.nodes, h[:]...)
	}
	return s
}

// indexRange calls fn for the index records from..last of st, from the
// overlay and the cache.
func (s *Store) indexRange(st *stream, from, last uint64, fn func(seq uint64, r storedRec) error) error {
	first, ov := st.ov.snapshot() // before the cache: see overlay
	if first == 0 || first > last {
		return s.cache.records(st.id, from, last, fn)
	}
	if from < first {
		if err := s.cache.records(st.id, from, first-1, fn); err != nil {
			return err
		}
		from = first
	}
	for seq := from; seq <= last; seq++ {
		i := seq - first
		if i >= uint64(len(ov)) {
			return fmt.Errorf("%w: seq %d is not indexed yet", journal.ErrSeqOutOfRange, seq)
		}
		if err := fn(seq, ov[i].stored()); err != nil {
			return err
		}
	}
	return nil
}

// indexRecord returns the index record of seq.
func (s *Store) indexRecord(st *stream, seq uint64) (storedRec, error) {
	var out storedRec
	err := s.indexRange(st, seq, seq, func(_ uint64, r storedRec) error {
		out = r
		out.nodes = append([]byte(nil), r.nodes...)
		return nil
	})
	return out, err
}

// streamHashes serves stored Merkle hashes of one stream from the overlay
// and the cache.
type streamHashes struct {
	s  *Store
	st *stream
}

func (h streamHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	first, ov := h.st.ov.snapshot()
	out := make([]tlog.Hash, len(indexes))
	var fromCache []int
	for i, idx := range indexes {
		leaf, level := journal.LeafForStoredHash(idx)
		seq := leaf + 1
		if first == 0 || seq < first || seq-first >= uint64(len(ov)) {
			fromCache = append(fromCache, i)
			continue
		}
		th, ok := ov[seq-first].stored().treeHash(level)
		if !ok {
			return nil, fmt.Errorf("%w: entry %d holds no Merkle hash at level %d", journal.ErrCorrupt, seq, level)
		}
		out[i] = tlog.Hash(th)
	}
	if len(fromCache) > 0 {
		idx := make([]int64, len(fromCache))
		for j, i := range fromCache {
			idx[j] = indexes[i]
		}
		hs, err := hashReader{c: h.s.cache, id: h.st.id}.ReadHashes(idx)
		if err != nil {
			return nil, err
		}
		for j, i := range fromCache {
			out[i] = hs[j]
		}
	}
	return out, nil
}
