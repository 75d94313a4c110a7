package badgerstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/cairnlog/cairn/journal"
)

type request struct {
	stream     string
	entries    []journal.Entry
	checkpoint bool // sign a checkpoint at the head instead of appending
	results    []journal.AppendResult
	ckpt       journal.SignedCheckpoint
	done       chan error
}

// Append appends entries to stream; see journal.Store for the rules.
func (s *Store) Append(ctx context.Context, stream string, entries []journal.Entry) ([]journal.AppendResult, error) {
	if err := journal.ValidateStreamName(stream); err != nil {
		return nil, err
	}
	for i := range entries {
		if err := s.validateEntry(stream, &entries[i]); err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
	}
	if len(entries) == 0 {
		return nil, nil
	}
	req := &request{stream: stream, entries: entries, done: make(chan error, 1)}
	if err := s.submit(ctx, req); err != nil {
		return nil, err
	}
	return req.results, nil
}

func (s *Store) validateEntry(stream string, e *journal.Entry) error {
	if e.Stream != "" && e.Stream != stream {
		return fmt.Errorf("%w: entry names stream %q, appended to %q", journal.ErrInvalidEntry, e.Stream, stream)
	}
	if !e.Kind.Valid() {
		return fmt.Errorf("%w: unknown kind %d", journal.ErrInvalidEntry, e.Kind)
	}
	if !e.Op.Valid() {
		return fmt.Errorf("%w: unknown op %d", journal.ErrInvalidEntry, e.Op)
	}
	if len(e.ProducerID) > 1024 {
		return fmt.Errorf("%w: producer id is %d bytes (max 1024)", journal.ErrInvalidEntry, len(e.ProducerID))
	}
	size := len(e.Payload) + len(e.Before) + len(e.After) + len(e.Key) + len(e.SourcePosition)
	for k, v := range e.Metadata {
		size += len(k) + len(v)
	}
	if size > s.cfg.MaxEntryBytes {
		return fmt.Errorf("%w: entry is %d bytes, over the %d-byte limit", journal.ErrInvalidEntry, size, s.cfg.MaxEntryBytes)
	}
	return nil
}

func (s *Store) submit(ctx context.Context, req *request) error {
	s.mu.RLock()
	closed, failed := s.closed, s.failed
	s.mu.RUnlock()
	if closed || s.cfg.ReadOnly {
		if s.cfg.ReadOnly {
			return fmt.Errorf("append: store opened read-only")
		}
		return journal.ErrClosed
	}
	if failed != nil {
		return failed
	}
	select {
	case s.reqs <- req:
	case <-s.stop:
		return journal.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued the request is committed or failed as a whole; waiting for
	// it even after ctx ends tells the caller the truth about durability.
	return <-req.done
}

// Checkpoint signs (if needed) and returns a checkpoint at the durable head.
func (s *Store) Checkpoint(ctx context.Context, stream string) (journal.SignedCheckpoint, error) {
	if _, _, err := s.stream(stream); err != nil {
		return journal.SignedCheckpoint{}, err
	}
	if s.cfg.ReadOnly {
		return s.LatestCheckpoint(ctx, stream)
	}
	req := &request{stream: stream, checkpoint: true, done: make(chan error, 1)}
	if err := s.submit(ctx, req); err != nil {
		return journal.SignedCheckpoint{}, err
	}
	return req.ckpt, nil
}

func (s *Store) commitLoop() {
	defer close(s.stopped)
	for {
		var first *request
		select {
		case first = <-s.reqs:
		case <-s.stop:
			s.drainAndFinish()
			return
		}
		group := []*request{first}
		n := len(first.entries)
	gather:
		for n < s.cfg.MaxGroupEntries {
			select {
			case r := <-s.reqs:
				group = append(group, r)
				n += len(r.entries)
			default:
				break gather
			}
		}
		s.commitGroup(group)
	}
}

// drainAndFinish commits what is queued, then signs final checkpoints.
func (s *Store) drainAndFinish() {
	for {
		select {
		case r := <-s.reqs:
			s.commitGroup([]*request{r})
			continue
		default:
		}
		break
	}
	s.mu.RLock()
	var names []string
	for name, st := range s.streams {
		if st.ckptSize != st.seq {
			names = append(names, name)
		}
	}
	failed := s.failed
	s.mu.RUnlock()
	if failed != nil || s.signer == nil {
		return
	}
	for _, name := range names {
		r := &request{stream: name, checkpoint: true, done: make(chan error, 1)}
		s.commitGroup([]*request{r})
		if err := <-r.done; err != nil {
			s.log.Warn("final checkpoint failed", "stream", name, "err", err)
		}
	}
}

// pending is the tentative state of one stream within a group.
type pending struct {
	st        *streamState // published state (read-only here)
	isNew     bool
	seq       uint64
	hash      journal.Hash
	highWater []byte
	cr        *journal.CompactRange
	positions []posSeq // positions written in this group, in order
	producers map[prodKey]uint64
	ckpt      *journal.SignedCheckpoint
	dirty     bool
}

// requestError fails one request without failing its group.
type requestError struct{ error }

type posSeq struct {
	pos []byte
	seq uint64
}

type prodKey struct {
	id  string
	seq uint64
}

// group builds the transactions of one commit group.
type group struct {
	s       *Store
	now     time.Time
	txn     *badger.Txn
	txns    int
	size    int
	count   int
	streams map[string]*pending
	order   []*pending
	buf     []byte
	tree    []journal.Hash
}

const maxTxnBytes = 4 << 20

func (s *Store) commitGroup(reqs []*request) {
	s.mu.RLock()
	failed := s.failed
	s.mu.RUnlock()
	if failed != nil {
		for _, r := range reqs {
			r.done <- failed
		}
		return
	}
	g := &group{s: s, now: time.Now().UTC(), streams: map[string]*pending{}}
	g.txn = s.db.NewTransaction(true)
	var err error
	for _, r := range reqs {
		if err = g.apply(r); err != nil {
			var re requestError
			if errors.As(err, &re) {
				// A bad request fails alone; nothing of it was staged.
				r.done <- re.error
				r.done = nil
				err = nil
				continue
			}
			break
		}
	}
	if err == nil {
		err = g.finish()
	}
	if err != nil {
		g.txn.Discard()
		err = fmt.Errorf("%w: %v", journal.ErrStoreFailed, err)
		s.mu.Lock()
		s.failed = err
		s.mu.Unlock()
		s.log.Error("journal write failed; appends are refused until the store is reopened", "err", err)
		for _, r := range reqs {
			if r.done != nil {
				r.done <- err
			}
		}
		return
	}
	s.publish(g)
	for _, r := range reqs {
		if r.done != nil {
			r.done <- nil
		}
	}
}

func (g *group) stream(name string) *pending {
	if p, ok := g.streams[name]; ok {
		return p
	}
	g.s.mu.RLock()
	st, ok := g.s.streams[name]
	g.s.mu.RUnlock()
	p := &pending{producers: map[prodKey]uint64{}}
	if ok {
		p.st, p.seq, p.hash, p.highWater, p.cr = st, st.seq, st.hash, st.highWater, st.cr.Clone()
	} else {
		p.isNew = true
		p.st = &streamState{id: g.s.nextID, name: name, cr: &journal.CompactRange{}}
		g.s.nextID++
		p.cr = &journal.CompactRange{}
	}
	g.streams[name] = p
	g.order = append(g.order, p)
	return p
}

func (g *group) set(k, v []byte) error {
	if g.size+len(k)+len(v) > maxTxnBytes && g.count > 0 {
		if err := g.cut(); err != nil {
			return err
		}
	}
	g.size += len(k) + len(v)
	g.count++
	if err := g.txn.Set(k, v); err != nil {
		return fmt.Errorf("stage write: %w", err)
	}
	return nil
}

// cut commits the current transaction with the heads it implies, so every
// transaction leaves the journal consistent, and opens the next one.
func (g *group) cut() error {
	if err := g.writeHeads(); err != nil {
		return err
	}
	if err := g.txn.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	g.txns++
	g.txn = g.s.db.NewTransaction(true)
	g.size, g.count = 0, 0
	return nil
}

func (g *group) writeHeads() error {
	for _, p := range g.order {
		if !p.dirty {
			continue
		}
		p.dirty = false
		if p.isNew {
			id := make([]byte, 4)
			id[0], id[1], id[2], id[3] = byte(p.st.id>>24), byte(p.st.id>>16), byte(p.st.id>>8), byte(p.st.id)
			if err := g.txn.Set(streamKey(p.st.name), id); err != nil {
				return fmt.Errorf("stage stream record: %w", err)
			}
		}
		if err := g.txn.Set(idKey(prefixHead, p.st.id), encodeHead(headValue{seq: p.seq, hash: p.hash, highWater: p.highWater})); err != nil {
			return fmt.Errorf("stage head: %w", err)
		}
		if p.ckpt != nil {
			if err := g.txn.Set(idKey(prefixCheckpoint, p.st.id), p.ckpt.Note); err != nil {
				return fmt.Errorf("stage checkpoint: %w", err)
			}
		}
	}
	return nil
}

func (g *group) finish() error {
	for _, p := range g.order {
		if p.seq == 0 && !p.dirty {
			continue
		}
		if p.ckpt == nil && p.seq > p.st.ckptSize && g.now.Sub(p.st.ckptAt) >= g.s.cfg.CheckpointInterval {
			if err := g.sign(p); err != nil {
				return err
			}
		}
	}
	if err := g.writeHeads(); err != nil {
		return err
	}
	if err := g.txn.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if err := g.s.db.Sync(); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	return nil
}

func (g *group) sign(p *pending) error {
	if g.s.signer == nil {
		return nil
	}
	c := journal.Checkpoint{Origin: journal.Origin(g.s.cfg.LogName, p.st.name), Size: p.seq, Root: p.cr.Root()}
	sc, err := journal.SignCheckpoint(c, g.s.signer)
	if err != nil {
		return err
	}
	p.ckpt = &sc
	p.dirty = true
	return nil
}

func (g *group) apply(r *request) error {
	p := g.stream(r.stream)
	if r.checkpoint {
		if p.isNew {
			return requestError{fmt.Errorf("%w: %q", journal.ErrUnknownStream, r.stream)}
		}
		if p.st.ckptSize == p.seq && p.ckpt == nil {
			sc, err := g.s.latestCheckpoint(p.st)
			if err == nil {
				r.ckpt = sc
				return nil
			}
		}
		if g.s.signer == nil {
			return requestError{fmt.Errorf("%w: this store has no signing key", journal.ErrNoCheckpoint)}
		}
		if p.ckpt == nil || p.ckpt.Size != p.seq {
			if err := g.sign(p); err != nil {
				return err
			}
		}
		r.ckpt = *p.ckpt
		return nil
	}
	r.results = make([]journal.AppendResult, len(r.entries))
	for i := range r.entries {
		e := &r.entries[i]
		dup, seq, err := g.duplicate(p, e)
		if err != nil {
			return err
		}
		if dup {
			r.results[i] = journal.AppendResult{Seq: seq, Duplicate: true}
			continue
		}
		p.seq++
		e.Stream, e.Seq, e.PrevHash, e.RecordedAt = r.stream, p.seq, p.hash, g.now
		g.buf, err = journal.AppendEntryBytes(g.buf[:0], e)
		if err != nil {
			return err
		}
		h := journal.HashEntryBytes(g.buf)
		g.tree = p.cr.Append(h, g.tree[:0])
		rec := encodeRecord(make([]byte, 0, 42+32*len(g.tree)+len(g.buf)), g.now, h, g.tree, g.buf)
		if err := g.set(entryKey(p.st.id, p.seq), rec); err != nil {
			return err
		}
		p.hash = h
		p.dirty = true
		if len(e.SourcePosition) > 0 {
			p.highWater = append([]byte(nil), e.SourcePosition...)
			p.positions = append(p.positions, posSeq{pos: p.highWater, seq: p.seq})
		}
		if e.ProducerID != "" {
			p.producers[prodKey{e.ProducerID, e.ProducerSeq}] = p.seq
			if err := g.set(producerKey(p.st.id, e.ProducerID, e.ProducerSeq), be64(p.seq)); err != nil {
				return err
			}
			g.s.noteProducer(p.st.id, e.ProducerID, e.ProducerSeq)
		}
		r.results[i] = journal.AppendResult{Seq: p.seq}
	}
	return nil
}

// duplicate applies the two dedup rules to e.
func (g *group) duplicate(p *pending, e *journal.Entry) (bool, uint64, error) {
	if len(e.SourcePosition) > 0 && p.highWater != nil && bytes.Compare(e.SourcePosition, p.highWater) <= 0 {
		seq, err := g.s.findPosition(p, e.SourcePosition)
		return true, seq, err
	}
	if e.ProducerID != "" {
		if seq, ok := p.producers[prodKey{e.ProducerID, e.ProducerSeq}]; ok {
			return true, seq, nil
		}
		if p.isNew {
			return false, 0, nil
		}
		max, err := g.s.producerMax(p.st.id, e.ProducerID)
		if err != nil {
			return false, 0, err
		}
		if max == nil || e.ProducerSeq > *max {
			return false, 0, nil
		}
		seq, found, err := g.s.producerSeq(p.st.id, e.ProducerID, e.ProducerSeq)
		if err != nil || !found {
			return false, 0, err
		}
		return true, seq, nil
	}
	return false, 0, nil
}

func (s *Store) publish(g *group) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range g.order {
		st := p.st
		st.seq, st.hash, st.highWater, st.cr = p.seq, p.hash, p.highWater, p.cr
		if p.ckpt != nil {
			st.ckptSize, st.ckptAt = p.ckpt.Size, g.now
		}
		if p.isNew && p.seq > 0 {
			s.streams[st.name] = st
		}
	}
	close(s.notify)
	s.notify = make(chan struct{})
}
