package pulsarstore

import (
	"context"
	"fmt"
	"time"

	"github.com/cairnlog/cairn/journal"
)

func (s *Store) headPos(st *stream) msgPos {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return st.head.last
}

func (w *writer) ackLoop() {
	defer close(w.done)
	defer close(w.flushq)
	var carry *group
	for {
		g := carry
		carry = nil
		if g == nil {
			var ok bool
			if g, ok = <-w.groups; !ok {
				return
			}
		}
		w.waitAcks(g)
		batch := []*group{g}
		open := true
	more:
		for len(batch) < maxAckBatch {
			select {
			case n, ok := <-w.groups:
				if !ok {
					open = false
					break more
				}
				select {
				case <-n.done:
					batch = append(batch, n)
				default:
					carry = n
					break more
				}
			default:
				break more
			}
		}
		w.finish(batch)
		if !open && carry == nil {
			return
		}
	}
}

const maxAckBatch = 512

// finish indexes, publishes and answers acknowledged groups, in order.
func (w *writer) finish(batch []*group) {
	s, st := w.s, w.st
	// A group whose messages were all acknowledged is durable, and so is
	// everything before it, even if a later send failed meanwhile. After a
	// failed group nothing is published: a later message could have landed
	// past a hole.
	ok := 0 // batch[:ok] are durable and checked
	failure := w.ackBroken
	for _, g := range batch {
		if failure != nil {
			break
		}
		err := g.error()
		if err == nil {
			err = w.checkDuplicates(batch[:ok], g)
		}
		if err != nil {
			failure = err
			if werr := w.err(); werr != nil {
				failure = werr
			}
			w.ackBroken = failure
			break
		}
		ok++
	}
	if ok > 0 {
		var recs []indexRec
		var last *group
		for _, g := range batch[:ok] {
			if len(g.recs) > 0 {
				recs = append(recs, g.recs...)
				last = g
			}
		}
		if last != nil {
			last.head.last = recs[len(recs)-1].pos
			st.ov.add(recs)
			s.publish(st, last.head, last.cr)
			w.flushq <- flushItem{recs: recs, head: last.head}
		}
	}
	for i, g := range batch {
		err := failure
		if i < ok {
			err = nil
		}
		for _, r := range g.reqs {
			rerr := err
			if r.ckpt && rerr == nil {
				r.sc, rerr = w.checkpoint(w.ctx)
			}
			r.done <- rerr
		}
	}
	if ok > 0 && failure == nil && time.Since(w.ckptAt) >= s.cfg.CheckpointInterval {
		w.autoCheckpoint()
	}
}

// checkDuplicates reads back the entries of g the broker acknowledged as
// duplicates (-1:-1). prior are the acknowledged groups before g in this
// batch, not indexed yet.
func (w *writer) checkDuplicates(prior []*group, g *group) error {
	for k := range g.recs {
		if g.recs[k].pos.valid() {
			continue
		}
		after := w.s.headPos(w.st)
		if k > 0 {
			after = g.recs[k-1].pos
		} else {
			for i := len(prior) - 1; i >= 0; i-- {
				if n := len(prior[i].recs); n > 0 {
					after = prior[i].recs[n-1].pos
					break
				}
			}
		}
		if err := w.s.verifyWritten(w.ctx, w.st, after, g.recs[k:]); err != nil {
			return w.poison(err)
		}
		w.s.log.Info("the broker acknowledged entries as duplicates (a resend after reconnecting); read back, they are ours",
			"stream", w.st.name, "from", g.recs[k].seq, "to", g.head.seq)
		return nil
	}
	return nil
}

// waitAcks waits until the broker answered every message of g. Past the
// ack timeout it poisons the writer, which closes the producer and fails
// what is pending. The client never answers sends still queued inside it
// when the producer closes, so once it is closed the group is given up
// after a grace period.
func (w *writer) waitAcks(g *group) {
	select {
	case <-g.done:
		return
	default:
	}
	t := time.NewTimer(w.s.cfg.AckTimeout)
	defer t.Stop()
	for {
		select {
		case <-g.done:
			return
		case <-t.C:
			w.poison(fmt.Errorf("%w: no acknowledgement for seq %d..%d within %v", ErrBrokerUnreachable, g.recs[0].seq, g.head.seq, w.s.cfg.AckTimeout))
		case <-w.prodClosed:
			select {
			case <-g.done:
			case <-time.After(time.Second):
				g.mu.Lock()
				g.gaveUp = true
				g.mu.Unlock()
				err := w.err()
				if err == nil {
					err = fmt.Errorf("%w: stream %s: the producer closed before acknowledging seq %d..%d", journal.ErrStoreFailed, w.st.name, g.recs[0].seq, g.head.seq)
				}
				g.fail(err)
			}
			return
		}
	}
}

// flushLoop writes acknowledged index records to the cache behind the
// acker, then drops them from the overlay and the in-flight dedup maps.
func (w *writer) flushLoop() {
	defer close(w.flushd)
	s, st := w.s, w.st
	var broken error
	for it := range w.flushq {
		recs, head := it.recs, it.head
	more:
		for len(recs) < 8192 {
			select {
			case n, ok := <-w.flushq:
				if !ok {
					break more
				}
				recs, head = append(recs, n.recs...), n.head
			default:
				break more
			}
		}
		if broken != nil {
			continue
		}
		if err := s.cache.write(st.id, recs, head); err != nil {
			// The entries are durable in Pulsar and served from the
			// overlay; the index on disk is behind the published head.
			broken = fmt.Errorf("%w: stream %s: seq %d to %d are durable in Pulsar, but writing the local index failed: %v; reopen the store (the index is rebuilt from Pulsar)",
				journal.ErrStoreFailed, st.name, recs[0].seq, head.seq, err)
			w.poison(broken)
			s.setFailed(st, broken)
			continue
		}
		st.ov.trim(head.seq)
		w.forget(recs)
	}
}

// forget drops in-flight dedup entries now found in the index.
func (w *writer) forget(recs []indexRec) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := range recs {
		r := &recs[i]
		if len(r.srcPos) > 0 && w.inflightPos[string(r.srcPos)] == r.seq {
			delete(w.inflightPos, string(r.srcPos))
		}
		if r.producer != "" {
			k := prodKey{r.producer, r.pseq}
			if w.inflightProd[k] == r.seq {
				delete(w.inflightProd, k)
			}
		}
	}
}

// verifyWritten reads the messages after position after and checks that
// they are recs, in order, filling in their positions. It runs for
// acknowledgements of duplicates (-1:-1).
func (s *Store) verifyWritten(ctx context.Context, st *stream, after msgPos, recs []indexRec) error {
	r, err := s.openReader(st.topic, after, false)
	if err != nil {
		return err
	}
	defer r.Close()
	for i := range recs {
		m, err := nextMessage(ctx, r, s.cfg.OperationTimeout)
		if err != nil {
			return fmt.Errorf("read back seq %d, acknowledged as a duplicate: %w", recs[i].seq, err)
		}
		if h := journal.HashEntryBytes(m.Payload()); h != recs[i].hash {
			return fmt.Errorf("%w: topic %s holds another entry at message %s where this node wrote seq %d (the previous writer's entry landed after the takeover)",
				ErrTakenOver, st.topic, posOf(m.ID()), recs[i].seq)
		}
		recs[i].pos = posOf(m.ID())
	}
	return nil
}

// release stops st's writer (if any) after its pending appends, stores a
// final checkpoint and closes its producers. The caller holds st.acq.
func (s *Store) release(ctx context.Context, st *stream) error {
	s.mu.RLock()
	w := st.w
	s.mu.RUnlock()
	if w == nil {
		return nil
	}
	stopped := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			w.poison(fmt.Errorf("released before the broker acknowledged pending appends: %w", ctx.Err()))
		case <-stopped:
		}
	}()
	w.stopSending() // may wait for a send blocked on a full producer queue
	<-w.done
	<-w.flushd
	close(stopped)
	var err error
	if w.err() == nil && s.headOf(st).Seq > 0 {
		if _, cerr := w.checkpoint(ctx); cerr != nil {
			err = fmt.Errorf("stream %s: final checkpoint: %w", st.name, cerr)
		}
	}
	if w.ckptProd != nil {
		w.ckptProd.Close()
	}
	w.closeProd()
	w.client.Close()
	s.mu.Lock()
	st.w = nil
	s.mu.Unlock()
	if err != nil {
		s.log.Warn("releasing stream", "stream", st.name, "err", err)
	}
	s.log.Info("released stream", "stream", st.name)
	return err
}

// Append appends entries to stream; see journal.Store for the rules. The
// first append to a stream this node does not write waits for exclusive
// write access (Config.AcquireOnAppend), bounded by ctx.
func (s *Store) Append(ctx context.Context, stream string, entries []journal.Entry) ([]journal.AppendResult, error) {
	if err := validStream(stream); err != nil {
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
	w, err := s.writerFor(ctx, stream)
	if err != nil {
		return nil, err
	}
	req := &request{entries: entries, done: make(chan error, 1)}
	if err := w.submit(ctx, req); err != nil {
		return nil, err
	}
	return req.results, nil
}

func (s *Store) validateEntry(stream string, e *journal.Entry) error {
	if err := journal.ValidateAppend(stream, e); err != nil {
		return err
	}
	if n := journal.EncodedSize(e); n > s.cfg.MaxEntryBytes {
		return fmt.Errorf("%w: entry is %d bytes encoded, over the %d-byte limit (one entry is one Pulsar message)", journal.ErrInvalidEntry, n, s.cfg.MaxEntryBytes)
	}
	return nil
}

// writerFor returns the stream's healthy writer, acquiring the stream if
// allowed.
func (s *Store) writerFor(ctx context.Context, name string) (*writer, error) {
	for attempt := 0; attempt < 2; attempt++ {
		s.mu.RLock()
		closed := s.closed
		var w *writer
		var failed error
		if st, ok := s.streams[name]; ok {
			w, failed = st.w, st.failed
		}
		s.mu.RUnlock()
		switch {
		case closed:
			return nil, journal.ErrClosed
		case failed != nil:
			return nil, failed
		case w != nil:
			if err := w.err(); err != nil {
				return nil, err
			}
			return w, nil
		case !s.cfg.AcquireOnAppend:
			return nil, fmt.Errorf("%w: %s (call AcquireStream first)", ErrNotWriter, name)
		}
		if _, err := s.AcquireStream(ctx, name); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w: %s was released while appending", ErrNotWriter, name)
}
