package badgerstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
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
	if err := journal.ValidateAppend(stream, e); err != nil {
		return err
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

// The write path is a two-stage pipeline. The committer goroutine gathers
// waiting requests into a group, assigns seqs, hashes and stages the writes
// in Badger transactions committed asynchronously (so Badger writes one
// chunk while the next is built), then hands the group to the syncer. The
// syncer takes every group handed over so far, waits for their transactions,
// calls DB.Sync once for all of them, and only then publishes the new heads
// and answers the callers. While it syncs, the committer builds the next
// group, so concurrent appenders share syncs.
//
// The committer owns the working state of every stream (seq, hash,
// high-water, Merkle edge), which runs ahead of the published durable state
// by at most the groups not yet synced. Any write or sync failure poisons the
// store; reopening recovers exactly what reached the disk.

// work is the committer's running state of one stream.
type work struct {
	st        *streamState // the published object (new streams: published after the first sync)
	seq       uint64
	hash      journal.Hash
	highWater []byte
	cr        *journal.CompactRange
	ckptSize  uint64
	ckptAt    time.Time
	known     bool   // stream record written
	committed uint64 // last seq handed to Badger in a committed transaction
}

// written is what the committer hands the syncer, in order: a chunk of
// staged writes (one Badger transaction) and, at the end of a group, the
// group's requests and the heads they make durable.
type written struct {
	batch *badger.WriteBatch // nil on a group's final item when it staged nothing more
	final bool
	reqs  []*request
	heads []headSnap
}

type headSnap struct {
	st        *streamState
	seq       uint64
	hash      journal.Hash
	highWater []byte
	cr        *journal.CompactRange
	ckptSize  uint64
	ckptAt    time.Time
}

func (s *Store) commitLoop() {
	synced := make(chan *written, 16)
	syncerDone := make(chan struct{})
	go s.syncLoop(synced, syncerDone)
	defer func() {
		close(synced)
		<-syncerDone
		close(s.stopped)
	}()
	for {
		var first *request
		select {
		case first = <-s.reqs:
		case <-s.stop:
			s.drainAndFinish(synced)
			return
		}
		group := []*request{first}
		n := len(first.entries)
		// The callers answered by the last sync tend to come back together;
		// give them a moment to join this group instead of splitting into
		// two half-size cohorts that each pay a sync.
		expect := int(s.lastSyncReqs.Load())
		var linger <-chan time.Time
	gather:
		for n < s.cfg.MaxGroupEntries {
			select {
			case r := <-s.reqs:
				group = append(group, r)
				n += len(r.entries)
				continue
			default:
			}
			switch {
			case s.syncBusy.Load():
				// A sync is under way: writing now would only wait behind
				// it, so keep gathering until it ends (leader/follower).
				select {
				case r := <-s.reqs:
					group = append(group, r)
					n += len(r.entries)
				case <-s.syncEnded:
				}
			case len(group) < expect:
				if linger == nil {
					linger = time.After(200 * time.Microsecond)
				}
				select {
				case r := <-s.reqs:
					group = append(group, r)
					n += len(r.entries)
				case <-linger:
					break gather
				}
			default:
				break gather
			}
		}
		s.writeGroup(group, synced)
	}
}

// drainAndFinish writes what is queued, then signs final checkpoints.
func (s *Store) drainAndFinish(synced chan<- *written) {
	for {
		select {
		case r := <-s.reqs:
			s.writeGroup([]*request{r}, synced)
			continue
		default:
		}
		break
	}
	if s.signer == nil || s.poisoned() != nil {
		return
	}
	var reqs []*request
	for name, w := range s.work {
		if w.ckptSize != w.seq {
			reqs = append(reqs, &request{stream: name, checkpoint: true, done: make(chan error, 1)})
		}
	}
	if len(reqs) == 0 {
		return
	}
	s.writeGroup(reqs, synced)
	for _, r := range reqs {
		if err := <-r.done; err != nil {
			s.log.Warn("final checkpoint failed", "stream", r.stream, "err", err)
		}
	}
}

func (s *Store) poisoned() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.failed
}

func (s *Store) poison(err error) error {
	err = fmt.Errorf("%w: %v", journal.ErrStoreFailed, err)
	s.mu.Lock()
	if s.failed == nil {
		s.failed = err
		s.log.Error("journal write failed; appends are refused until the store is reopened", "err", err)
	}
	err = s.failed
	s.mu.Unlock()
	return err
}

func (s *Store) syncLoop(in <-chan *written, done chan<- struct{}) {
	defer close(done)
	var pending []*written // finished groups waiting for the next sync
	var flushErr error
	for w := range in {
		items := []*written{w}
	more:
		for {
			select {
			case x, ok := <-in:
				if !ok {
					break more
				}
				items = append(items, x)
			default:
				break more
			}
		}
		// Flush applies each chunk's transaction (in order) while the
		// committer already stages the next one.
		s.syncBusy.Store(true)
		for _, it := range items {
			if it.batch != nil {
				if err := it.batch.Flush(); err != nil && flushErr == nil {
					flushErr = fmt.Errorf("write: %w", err)
				}
				s.commits.Done()
			}
			if it.final {
				pending = append(pending, it)
			}
		}
		if len(pending) == 0 {
			s.syncBusy.Store(false)
			continue
		}
		err := flushErr
		if err == nil {
			if e := s.db.Sync(); e != nil {
				err = fmt.Errorf("sync: %w", e)
			}
		}
		if err != nil {
			err = s.poison(err)
		} else {
			s.publish(pending)
		}
		reqs := 0
		for _, b := range pending {
			reqs += len(b.reqs)
		}
		s.lastSyncReqs.Store(int64(reqs))
		s.syncBusy.Store(false)
		select {
		case s.syncEnded <- struct{}{}:
		default:
		}
		for _, b := range pending {
			for _, r := range b.reqs {
				if r.done != nil {
					r.done <- err
				}
			}
		}
		pending = nil
	}
}

func (s *Store) publish(batch []*written) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range batch {
		for _, h := range b.heads {
			st := h.st
			st.seq, st.hash, st.highWater, st.cr = h.seq, h.hash, h.highWater, h.cr
			st.ckptSize, st.ckptAt = h.ckptSize, h.ckptAt
			if _, ok := s.streams[st.name]; !ok && st.seq > 0 {
				s.streams[st.name] = st
			}
		}
	}
	close(s.notify)
	s.notify = make(chan struct{})
}

// requestError fails one request without failing its group.
type requestError struct{ error }

type prodKey struct {
	id  string
	seq uint64
}

// group stages one group's writes.
type group struct {
	s       *Store
	now     time.Time
	wb      *badger.WriteBatch
	staged  bool // wb holds at least one write
	out     chan<- *written
	size    int
	count   int
	touched []*work
	dirty   map[*work]bool
	ckpts   map[*work]*journal.SignedCheckpoint
	// positions and producers staged in this group, for in-group dedup
	positions map[*work][]posSeq
	producers map[*work]map[prodKey]uint64
	buf       []byte
	tree      []journal.Hash
	arena     []byte // keys and records of this group, carved from few large allocations
	arenaHint int    // size of the next arena allocation
}

// alloc returns n bytes (length 0, capacity n) from the group's arena. The
// slices stay valid until Badger has applied the transaction, which holds them.
func (g *group) alloc(n int) []byte {
	if cap(g.arena)-len(g.arena) < n {
		g.arena = make([]byte, 0, max(n, g.arenaHint))
		g.arenaHint = 256 << 10
	}
	b := g.arena[len(g.arena) : len(g.arena) : len(g.arena)+n]
	g.arena = g.arena[:len(g.arena)+n]
	return b
}

type posSeq struct {
	pos []byte
	seq uint64
}

// Chunks stay well inside Badger's transaction limits (15% of a memtable).
const (
	maxTxnBytes  = 1 << 20
	chunkEntries = 2048
)

func (s *Store) writeGroup(reqs []*request, synced chan<- *written) {
	if err := s.poisoned(); err != nil {
		for _, r := range reqs {
			r.done <- err
		}
		return
	}
	g := &group{s: s, now: time.Now().UTC(), dirty: map[*work]bool{}, ckpts: map[*work]*journal.SignedCheckpoint{},
		positions: map[*work][]posSeq{}, producers: map[*work]map[prodKey]uint64{}}
	for _, r := range reqs {
		for i := range r.entries {
			g.arenaHint += journal.EncodedSize(&r.entries[i]) + recordHeader + 13 + 64
		}
	}
	g.arenaHint = min(g.arenaHint, 8<<20)
	g.out = synced
	g.wb = s.db.NewWriteBatch()
	var err error
	for _, r := range reqs {
		if err = g.apply(r); err != nil {
			var re requestError
			if errors.As(err, &re) {
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
	} else {
		g.wb.Cancel()
	}
	if err != nil {
		// Chunks already handed over may reach the disk; the store is
		// poisoned either way and reopening recovers what did.
		err = s.poison(err)
		for _, r := range reqs {
			if r.done != nil {
				r.done <- err
			}
		}
		return
	}
	w := &written{final: true, reqs: reqs}
	for _, wk := range g.touched {
		w.heads = append(w.heads, headSnap{st: wk.st, seq: wk.seq, hash: wk.hash, highWater: wk.highWater, cr: wk.cr.Clone(), ckptSize: wk.ckptSize, ckptAt: wk.ckptAt})
	}
	synced <- w
}

func (g *group) stream(name string) *work {
	w, ok := g.s.work[name]
	if !ok {
		w = &work{st: &streamState{id: g.s.nextID, name: name, cr: &journal.CompactRange{}}, cr: &journal.CompactRange{}}
		g.s.nextID++
		g.s.work[name] = w
	}
	if _, seen := g.dirty[w]; !seen {
		g.dirty[w] = false
		g.touched = append(g.touched, w)
	}
	return w
}

// room cuts the transaction before an entry whose writes (need bytes, keys
// keys) would overflow it, so an entry, its producer key and the head that
// counts it always share one transaction.
func (g *group) room(need, keys int) error {
	if (g.size+need > maxTxnBytes || g.count+keys > chunkEntries) && g.count > 0 {
		return g.cut()
	}
	return nil
}

func (g *group) set(k, v []byte) error {
	g.size += len(k) + len(v)
	g.count++
	g.staged = true
	if err := g.wb.Set(k, v); err != nil {
		return fmt.Errorf("stage write: %w", err)
	}
	return nil
}

// cut ends the current chunk, with the heads it implies so that every
// transaction leaves the journal consistent, hands it to the syncer to
// apply (Badger applies them in order) and starts the next one.
func (g *group) cut() error {
	if err := g.writeHeads(); err != nil {
		return err
	}
	g.handOff()
	g.wb = g.s.db.NewWriteBatch()
	g.size, g.count, g.staged = 0, 0, false
	return nil
}

func (g *group) handOff() {
	for _, w := range g.touched {
		w.committed = w.seq
	}
	g.s.commits.Add(1)
	g.out <- &written{batch: g.wb}
}

func (g *group) writeHeads() error {
	for _, w := range g.touched {
		if !g.dirty[w] {
			continue
		}
		g.dirty[w] = false
		g.staged = true
		if !w.known {
			if err := g.wb.Set(streamKey(w.st.name), binary.BigEndian.AppendUint32(nil, w.st.id)); err != nil {
				return fmt.Errorf("stage stream record: %w", err)
			}
			w.known = true
		}
		if err := g.wb.Set(idKey(prefixHead, w.st.id), encodeHead(headValue{seq: w.seq, hash: w.hash, highWater: w.highWater})); err != nil {
			return fmt.Errorf("stage head: %w", err)
		}
		if c := g.ckpts[w]; c != nil {
			if err := g.wb.Set(idKey(prefixCheckpoint, w.st.id), c.Note); err != nil {
				return fmt.Errorf("stage checkpoint: %w", err)
			}
		}
	}
	return nil
}

func (g *group) finish() error {
	for _, w := range g.touched {
		if w.seq > w.ckptSize && g.ckpts[w] == nil && g.now.Sub(w.ckptAt) >= g.s.cfg.CheckpointInterval {
			if err := g.sign(w); err != nil {
				return err
			}
		}
	}
	if err := g.writeHeads(); err != nil {
		g.wb.Cancel()
		return err
	}
	if g.staged {
		g.handOff()
	} else {
		g.wb.Cancel()
	}
	return nil
}

func (g *group) sign(w *work) error {
	if g.s.signer == nil {
		return nil
	}
	c := journal.Checkpoint{Origin: journal.Origin(g.s.cfg.LogName, w.st.name), Size: w.seq, Root: w.cr.Root()}
	sc, err := journal.SignCheckpoint(c, g.s.signer)
	if err != nil {
		return err
	}
	g.ckpts[w] = &sc
	w.ckptSize, w.ckptAt = sc.Size, g.now
	g.dirty[w] = true
	return nil
}

func (g *group) apply(r *request) error {
	if r.checkpoint {
		w, ok := g.s.work[r.stream]
		if !ok || w.seq == 0 {
			return requestError{fmt.Errorf("%w: %q", journal.ErrUnknownStream, r.stream)}
		}
		if g.s.signer == nil {
			return requestError{fmt.Errorf("%w: this store has no signing key", journal.ErrNoCheckpoint)}
		}
		g.stream(r.stream)
		if c := g.ckpts[w]; c != nil && c.Size == w.seq {
			r.ckpt = *c
			return nil
		}
		if w.ckptSize == w.seq {
			if sc, err := g.s.latestCheckpoint(w.st); err == nil && sc.Size == w.seq {
				r.ckpt = sc
				return nil
			}
		}
		if err := g.sign(w); err != nil {
			return err
		}
		r.ckpt = *g.ckpts[w]
		return nil
	}
	w := g.stream(r.stream)
	r.results = make([]journal.AppendResult, len(r.entries))
	for i := range r.entries {
		e := &r.entries[i]
		dup, seq, err := g.duplicate(w, e)
		if err != nil {
			return err
		}
		if dup {
			r.results[i] = journal.AppendResult{Seq: seq, Duplicate: true}
			continue
		}
		need, keys := journal.EncodedSize(e)+recordHeader+8+32*bits.TrailingZeros64(^w.cr.Size())+13, 1
		if e.ProducerID != "" {
			need, keys = need+len(e.ProducerID)+23, keys+1
		}
		if e.Kind == journal.KindSchema {
			need, keys = need+len(e.Table)+15+len(e.SchemaFingerprint), keys+1
		}
		if err := g.room(need, keys); err != nil {
			return err
		}
		w.seq++
		e.Stream, e.Seq, e.PrevHash, e.RecordedAt = r.stream, w.seq, w.hash, g.now
		g.buf, err = journal.AppendEntryBytes(g.buf[:0], e)
		if err != nil {
			return err
		}
		h := journal.HashEntryBytes(g.buf)
		g.tree = w.cr.Append(h, g.tree[:0])
		rec := encodeRecord(g.alloc(recordHeader+32*len(g.tree)+len(g.buf)), g.now, h, g.tree[1:], g.buf)
		key := append(g.alloc(13), entryKey(w.st.id, w.seq)...)
		if err := g.set(key, rec); err != nil {
			return err
		}
		w.hash = h
		g.dirty[w] = true
		if e.Kind == journal.KindSchema {
			if err := g.set(schemaKey(w.st.id, e.Table, w.seq), append([]byte(nil), e.SchemaFingerprint...)); err != nil {
				return err
			}
		}
		if len(e.SourcePosition) > 0 {
			w.highWater = append([]byte(nil), e.SourcePosition...)
			g.positions[w] = append(g.positions[w], posSeq{pos: w.highWater, seq: w.seq})
		}
		if e.ProducerID != "" {
			m := g.producers[w]
			if m == nil {
				m = map[prodKey]uint64{}
				g.producers[w] = m
			}
			m[prodKey{e.ProducerID, e.ProducerSeq}] = w.seq
			if err := g.set(producerKey(w.st.id, e.ProducerID, e.ProducerSeq), be64(w.seq)); err != nil {
				return err
			}
			g.s.noteProducer(w.st.id, e.ProducerID, e.ProducerSeq)
		}
		r.results[i] = journal.AppendResult{Seq: w.seq}
	}
	return nil
}

// duplicate applies the two dedup rules to e.
func (g *group) duplicate(w *work, e *journal.Entry) (bool, uint64, error) {
	if len(e.SourcePosition) > 0 && w.highWater != nil && bytes.Compare(e.SourcePosition, w.highWater) <= 0 {
		seq, err := g.s.findPosition(w, g.positions[w], e.SourcePosition)
		return true, seq, err
	}
	if e.ProducerID != "" {
		if seq, ok := g.producers[w][prodKey{e.ProducerID, e.ProducerSeq}]; ok {
			return true, seq, nil
		}
		max, err := g.s.producerMax(w.st.id, e.ProducerID)
		if err != nil {
			return false, 0, err
		}
		if max == nil || e.ProducerSeq > *max {
			return false, 0, nil
		}
		// Producer keys of earlier transactions may still be on their way
		// into Badger; wait for them (this path runs only for retries).
		g.s.commits.Wait()
		seq, found, err := g.s.producerSeq(w.st.id, e.ProducerID, e.ProducerSeq)
		if err != nil || !found {
			return false, 0, err
		}
		return true, seq, nil
	}
	return false, 0, nil
}
