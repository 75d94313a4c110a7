package pulsarstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/cairnlog/cairn/journal"
)

// Reading a topic into the local index: catch-up (to the topic's current
// end, at load and at takeover) and follow (tailing a stream another node
// writes). Both decode every message, check that it continues the chain
// (seq = head+1, prev_hash = head hash, the stream's name), extend the
// Merkle edge and write index records in batches, then publish the head.

func posOf(id pulsar.MessageID) msgPos {
	if id == nil {
		return noPos
	}
	return msgPos{id.LedgerID(), id.EntryID()}
}

// messageID is the id of the (non-batched) message at p. The batch index
// must be 0, as on received messages: with -1 an exclusive start would
// deliver the start message itself.
func (p msgPos) messageID() pulsar.MessageID { return pulsar.NewMessageID(p.ledger, p.entry, 0, 0) }

// openReader opens a reader on topic at pos (inclusive or not); an invalid
// pos starts at the earliest message.
func (s *Store) openReader(topic string, pos msgPos, inclusive bool) (pulsar.Reader, error) {
	start := pulsar.EarliestMessageID()
	if pos.valid() {
		start = pos.messageID()
	} else {
		inclusive = false
	}
	r, err := s.createReader(pulsar.ReaderOptions{
		Topic:                   topic,
		StartMessageID:          start,
		StartMessageIDInclusive: inclusive,
		ReceiverQueueSize:       s.cfg.ReceiverQueueSize,
		BackoffPolicyFunc:       s.backoff,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: open a reader on %s at %s: %v", ErrBrokerUnreachable, topic, pos, err)
	}
	return r, nil
}

// createReader is CreateReader, retried for up to 30 s (backoff 250 ms to
// 2 s) while the broker answers that it cannot serve the topic yet: right
// after a broker or bookie restart, opening a topic's ledgers fails for a
// moment with "Not enough non-faulty bookies available" or "not ready".
// Other errors return at once.
func (s *Store) createReader(opts pulsar.ReaderOptions) (pulsar.Reader, error) {
	deadline := time.Now().Add(30 * time.Second)
	wait := 250 * time.Millisecond
	for {
		r, err := s.client.CreateReader(opts)
		if err == nil || !transientTopicError(err) || time.Now().After(deadline) {
			return r, err
		}
		s.log.Warn("the broker cannot serve the topic yet; retrying", "topic", opts.Topic, "err", err, "in", wait)
		time.Sleep(wait)
		wait = min(2*wait, 2*time.Second)
	}
}

// transientTopicError reports whether err is the broker's answer while it
// (or its bookie) is still starting.
func transientTopicError(err error) bool {
	msg := err.Error()
	for _, s := range []string{"Not enough non-faulty bookies", "ServiceNotReady", "ServiceUnitNotReady", "is not ready", "TooManyRequests"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// lastPosition asks the broker for the topic's last message (noPos if empty).
func lastPosition(r pulsar.Reader) (msgPos, error) {
	id, err := r.GetLastMessageID()
	if err != nil {
		return noPos, fmt.Errorf("%w: last message of %s: %v", ErrBrokerUnreachable, r.Topic(), err)
	}
	if p := posOf(id); p.valid() {
		return p, nil
	}
	return noPos, nil
}

// nextMessage waits at most limit for the reader's next message.
func nextMessage(ctx context.Context, r pulsar.Reader, limit time.Duration) (pulsar.Message, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	m, err := r.Next(ctx)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w: no message from %s within %v", ErrBrokerUnreachable, r.Topic(), limit)
		}
		return nil, fmt.Errorf("read %s: %w", r.Topic(), err)
	}
	return m, nil
}

// indexer extends a stream's index message by message.
type indexer struct {
	s    *Store
	st   *stream
	head cachedHead
	cr   *journal.CompactRange
	recs []indexRec
	tree []journal.Hash
}

func (s *Store) newIndexer(st *stream) *indexer {
	s.mu.RLock()
	defer s.mu.RUnlock()
	h := st.head
	h.highWater = append([]byte(nil), h.highWater...)
	return &indexer{s: s, st: st, head: h, cr: st.cr.Clone()}
}

// add checks that m continues the chain and stages its index record.
func (ix *indexer) add(m pulsar.Message) error {
	pos := posOf(m.ID())
	payload := m.Payload()
	e, err := journal.DecodeEntryBytes(payload)
	topic := ix.st.topic
	if err != nil {
		return fmt.Errorf("%w: topic %s message %s is not a journal entry (%v); only cairn may write to journal topics", journal.ErrCorrupt, topic, pos, err)
	}
	switch {
	case e.Stream != ix.st.name:
		return fmt.Errorf("%w: topic %s message %s belongs to stream %q, not %q", journal.ErrCorrupt, topic, pos, e.Stream, ix.st.name)
	case e.Seq != ix.head.seq+1:
		return fmt.Errorf("%w: topic %s does not chain: message %s carries seq %d where seq %d was due (written with deduplication off, or by another tool?)",
			journal.ErrCorrupt, topic, pos, e.Seq, ix.head.seq+1)
	case e.PrevHash != ix.head.hash:
		return fmt.Errorf("%w: topic %s does not chain: seq %d (message %s) has prev_hash %s, but seq %d hashes to %s",
			journal.ErrCorrupt, topic, e.Seq, pos, e.PrevHash, ix.head.seq, ix.head.hash)
	case len(e.SourcePosition) > 0 && ix.head.highWater != nil && bytes.Compare(e.SourcePosition, ix.head.highWater) <= 0:
		return fmt.Errorf("%w: topic %s seq %d has source position %x at or below the earlier high-water %x", journal.ErrCorrupt, topic, e.Seq, e.SourcePosition, ix.head.highWater)
	}
	h := journal.HashEntryBytes(payload)
	ix.tree = ix.cr.Append(h, ix.tree[:0])
	ix.recs = append(ix.recs, indexRec{seq: e.Seq, hash: h, pos: pos, nodes: append([]journal.Hash(nil), ix.tree[1:]...),
		srcPos: e.SourcePosition, producer: e.ProducerID, pseq: e.ProducerSeq})
	ix.head.seq, ix.head.hash, ix.head.last = e.Seq, h, pos
	if len(e.SourcePosition) > 0 {
		ix.head.highWater = e.SourcePosition
	}
	return nil
}

// flush writes the staged records and publishes the head.
func (ix *indexer) flush() error {
	if len(ix.recs) == 0 {
		return nil
	}
	if err := ix.s.cache.write(ix.st.id, ix.recs, ix.head); err != nil {
		return err
	}
	ix.recs = ix.recs[:0]
	h := ix.head
	h.highWater = append([]byte(nil), h.highWater...)
	ix.s.publish(ix.st, h, ix.cr.Clone())
	return nil
}

const indexBatch = 2000

// catchUp indexes the topic from the published head to the topic's last
// message. The caller holds st.acq (so no follower or writer runs).
func (s *Store) catchUp(ctx context.Context, st *stream) error {
	s.mu.RLock()
	from, seq := st.head.last, st.head.seq
	s.mu.RUnlock()
	r, err := s.openReader(st.topic, from, false)
	if err != nil {
		return err
	}
	defer r.Close()
	last, err := lastPosition(r)
	if err != nil {
		return err
	}
	if seq > 0 && last.cmp(from) < 0 {
		return fmt.Errorf("%w: topic %s ends at message %s before the indexed seq %d (message %s): entries were lost from Pulsar",
			journal.ErrCorrupt, st.topic, last, seq, from)
	}
	if !last.valid() || (seq > 0 && last == from) {
		return nil
	}
	ix := s.newIndexer(st)
	for cur := from; cur.cmp(last) < 0; {
		m, err := nextMessage(ctx, r, s.cfg.OperationTimeout)
		if err != nil {
			return fmt.Errorf("catch up with %s (at seq %d, target message %s): %w", st.topic, ix.head.seq, last, err)
		}
		if err := ix.add(m); err != nil {
			return err
		}
		cur = posOf(m.ID())
		if len(ix.recs) >= indexBatch {
			if err := ix.flush(); err != nil {
				return err
			}
		}
	}
	return ix.flush()
}

// follower tails a stream another node writes.
type follower struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// startFollower starts tailing st. The caller holds st.acq.
func (s *Store) startFollower(st *stream) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.f != nil || st.w != nil || s.closed || st.failed != nil {
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	f := &follower{cancel: cancel, done: make(chan struct{})}
	st.f = f
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		defer close(f.done)
		s.follow(ctx, st)
	}()
}

// stopFollower stops tailing st and waits for it. The caller holds st.acq.
func (s *Store) stopFollower(st *stream) {
	s.mu.Lock()
	f := st.f
	st.f = nil
	s.mu.Unlock()
	if f != nil {
		f.cancel()
		<-f.done
	}
}

func (s *Store) follow(ctx context.Context, st *stream) {
	bo := s.backoff()
	for ctx.Err() == nil {
		err := s.followOnce(ctx, st)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, journal.ErrCorrupt) {
			s.setFailed(st, err)
			return
		}
		s.log.Warn("following stream topic; retrying", "stream", st.name, "err", err)
		select {
		case <-time.After(bo.Next()):
		case <-ctx.Done():
		}
	}
}

func (s *Store) followOnce(ctx context.Context, st *stream) error {
	s.mu.RLock()
	from := st.head.last
	s.mu.RUnlock()
	r, err := s.openReader(st.topic, from, false)
	if err != nil {
		return err
	}
	defer r.Close()
	ix := s.newIndexer(st)
	for {
		m, err := r.Next(ctx)
		if err != nil {
			return err
		}
		if err := ix.add(m); err != nil {
			return err
		}
		// Take what has arrived already, then index it as one batch.
		for len(ix.recs) < indexBatch {
			m, err := nextMessage(ctx, r, 2*time.Millisecond)
			if err != nil {
				break
			}
			if err := ix.add(m); err != nil {
				return err
			}
		}
		if err := ix.flush(); err != nil {
			return err
		}
	}
}
