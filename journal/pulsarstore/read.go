package pulsarstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/cairnlog/cairn/journal"
)

// Read returns up to limit durable records of stream from seq from. It looks
// up the message of seq from in the local index, reads the topic from
// there, and checks every message against the index (seq and hash), so a
// record is returned only if it is the entry the Merkle tree commits to.
func (s *Store) Read(ctx context.Context, stream string, from uint64, limit int) ([]journal.Record, error) {
	st, h, err := s.lookup(ctx, stream)
	if err != nil {
		return nil, err
	}
	last, ok, err := journal.ReadRange(from, limit, h.Seq)
	if !ok {
		return nil, err
	}
	idx := make([]storedRec, 0, last-from+1)
	if err := s.indexRange(st, from, last, func(_ uint64, r storedRec) error {
		r.nodes = nil
		idx = append(idx, r)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("stream %s: %w", stream, err)
	}
	r, err := s.readers.get(st, from, idx[0].pos)
	if err != nil {
		return nil, err
	}
	out := make([]journal.Record, 0, len(idx))
	for i, want := range idx {
		seq := from + uint64(i)
		m, err := nextMessage(ctx, r, s.cfg.OperationTimeout)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("stream %s: read seq %d (message %s): %w", stream, seq, want.pos, err)
		}
		payload := m.Payload()
		e, err := journal.DecodeEntryBytes(payload)
		if err == nil && (e.Seq != seq || journal.HashEntryBytes(payload) != want.hash) {
			err = fmt.Errorf("%w: topic %s message %s is not the indexed entry %d (hash %s); delete %s/cache to rebuild the index",
				journal.ErrCorrupt, st.topic, posOf(m.ID()), seq, want.hash, s.cfg.Dir)
		}
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("stream %s seq %d: %w", stream, seq, err)
		}
		e.RecordedAt = m.EventTime().UTC()
		if e.RecordedAt.IsZero() {
			e.RecordedAt = m.PublishTime().UTC()
		}
		out = append(out, journal.Record{Entry: e, Hash: want.hash})
	}
	s.readers.put(st, r, last+1)
	return out, nil
}

// readerPool keeps a few readers per stream positioned where the last Read
// ended, so sequential reads (subscribers paging forward) skip the seek.
type readerPool struct {
	s    *Store
	mu   sync.Mutex
	idle map[*stream][]pooled
	done bool
}

type pooled struct {
	r    pulsar.Reader
	next uint64
}

const readersPerStream = 2

func (p *readerPool) init(s *Store) {
	p.s = s
	p.idle = map[*stream][]pooled{}
}

// get returns a reader whose next message is seq from, at position pos.
func (p *readerPool) get(st *stream, from uint64, pos msgPos) (pulsar.Reader, error) {
	p.mu.Lock()
	if p.done {
		p.mu.Unlock()
		return nil, journal.ErrClosed
	}
	list := p.idle[st]
	for i, x := range list {
		if x.next == from {
			p.idle[st] = append(list[:i], list[i+1:]...)
			p.mu.Unlock()
			return x.r, nil
		}
	}
	p.mu.Unlock()
	return p.s.openReader(st.topic, pos, true)
}

func (p *readerPool) put(st *stream, r pulsar.Reader, next uint64) {
	p.mu.Lock()
	if p.done {
		p.mu.Unlock()
		r.Close()
		return
	}
	list := append(p.idle[st], pooled{r: r, next: next})
	var evict pulsar.Reader
	if len(list) > readersPerStream {
		evict = list[0].r
		list = list[1:]
	}
	p.idle[st] = list
	p.mu.Unlock()
	if evict != nil {
		evict.Close()
	}
}

func (p *readerPool) closeAll() {
	p.mu.Lock()
	p.done = true
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, list := range idle {
		for _, x := range list {
			x.r.Close()
		}
	}
}

func boundTreeSize(h journal.Head, size uint64) (uint64, error) {
	if size == 0 {
		return h.Seq, nil
	}
	if size > h.Seq {
		return 0, fmt.Errorf("%w: tree size %d is past the head (%d entries)", journal.ErrBadTreeSize, size, h.Seq)
	}
	return size, nil
}

// InclusionProof proves seq is in the tree of treeSize leaves (0 = head).
func (s *Store) InclusionProof(ctx context.Context, stream string, seq, treeSize uint64) (journal.InclusionProof, error) {
	st, h, err := s.lookup(ctx, stream)
	if err != nil {
		return journal.InclusionProof{}, err
	}
	size, err := boundTreeSize(h, treeSize)
	if err != nil {
		return journal.InclusionProof{}, err
	}
	if seq == 0 || seq > size {
		return journal.InclusionProof{}, fmt.Errorf("%w: seq %d is not in a tree of %d entries", journal.ErrSeqOutOfRange, seq, size)
	}
	rec, err := s.indexRecord(st, seq)
	if err != nil {
		return journal.InclusionProof{}, err
	}
	return journal.ProveInclusion(stream, seq, size, rec.hash, streamHashes{s: s, st: st})
}

// ConsistencyProof proves the tree of from leaves is a prefix of the tree of to leaves (0 = head).
func (s *Store) ConsistencyProof(ctx context.Context, stream string, from, to uint64) (journal.ConsistencyProof, error) {
	st, h, err := s.lookup(ctx, stream)
	if err != nil {
		return journal.ConsistencyProof{}, err
	}
	if to, err = boundTreeSize(h, to); err != nil {
		return journal.ConsistencyProof{}, err
	}
	return journal.ProveConsistency(stream, from, to, streamHashes{s: s, st: st})
}
