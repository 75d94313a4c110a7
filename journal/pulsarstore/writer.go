package pulsarstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/cairnlog/cairn/journal"
)

// Writing a stream. A node writes a stream only while it holds the stream
// topic's producer in WaitForExclusive mode: the broker queues every other
// node's producer until the holder's goes away (Close, ReleaseStream, a
// crash, a lost connection), which makes it capture's leader election.
//
// The write path: an Append applies the dedup rules, assigns seqs, hashes,
// extends the Merkle edge and sends each entry asynchronously (SequenceID =
// seq, batching off), all under the writer's send lock, and hands the
// request to the acker; it never waits for earlier acknowledgements, so
// many appends share the pipeline. The acker takes requests in order,
// waits until the broker acknowledged each one's messages, adds their
// index records to the stream's overlay, publishes the head and answers.
// The flusher writes the records to the local index behind it.
//
// A failed send poisons the writer: the producer is closed at once, so no
// later seq can be acknowledged past a hole, and every later append fails
// with journal.ErrStoreFailed until AcquireStream (which reads the topic
// again) or a reopen.
//
// A broker acknowledges a message it already had (deduplication) with
// message id -1:-1. After a reconnect that is our own resend; it could also
// be an entry of the previous writer that reached the topic after this node
// read the topic's end. So the first message after a takeover is sent alone,
// and every -1:-1 acknowledgement is checked by reading the entry back.

type request struct {
	entries []journal.Entry
	results []journal.AppendResult
	ckpt    bool // sign and store a checkpoint at the durable head
	sc      journal.SignedCheckpoint
	done    chan error
}

type prodKey struct {
	id  string
	seq uint64
}

type writer struct {
	s      *Store
	st     *stream
	client pulsar.Client
	prod   pulsar.Producer
	ctx    context.Context // ends at the end of Store.Close
	groups chan *group     // sender -> acker, in seq order
	done   chan struct{}   // closed when the acker has answered everything
	flushq chan flushItem  // acker -> flusher
	flushd chan struct{}   // closed when the flusher is done

	closeProd  func()
	prodClosed chan struct{} // closed once the producer is closed
	budget     *budget       // bounds messages and bytes in flight

	failMu   sync.Mutex
	failed   error
	failedCh chan struct{} // closed by poison

	// Guarded by sendMu: the sending state.
	sendMu    sync.Mutex
	closed    bool // no more sends; groups is closed
	seq       uint64
	hash      journal.Hash
	highWater []byte
	cr        *journal.CompactRange
	prodMax   map[string]uint64
	probed    bool
	tree      []journal.Hash

	// acker-owned
	ckptProd  pulsar.Producer
	ckptAt    time.Time
	ackBroken error // sticky: a group failed, no later one is published

	mu           sync.Mutex // guards the in-flight dedup maps (until flushed)
	inflightPos  map[string]uint64
	inflightProd map[prodKey]uint64
}

// flushItem is index data the flusher writes to the cache.
type flushItem struct {
	recs []indexRec
	head cachedHead
}

// group is one request as sent.
type group struct {
	reqs    []*request
	ckpt    bool
	recs    []indexRec
	head    cachedHead
	cr      *journal.CompactRange
	pending atomic.Int64
	done    chan struct{}
	mu      sync.Mutex
	err     error
	gaveUp  bool // the producer closed with callbacks still due (guarded by mu)
}

func (g *group) fail(err error) {
	g.mu.Lock()
	if g.err == nil {
		g.err = err
	}
	g.mu.Unlock()
}

func (g *group) error() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

// settle counts n messages as answered.
func (g *group) settle(n int64) {
	if g.pending.Add(-n) == 0 {
		close(g.done)
	}
}

// AcquireStream blocks until this store is the only writer of stream (the
// broker granted its exclusive producer), brings the index up to the
// topic's end and returns the head new appends continue from. A standby
// node calls it to wait for leadership; ctx ends the wait. Appending
// acquires implicitly when Config.AcquireOnAppend is set. Calling it on a
// stream whose writer failed recovers the stream from the topic.
func (s *Store) AcquireStream(ctx context.Context, name string) (journal.Head, error) {
	if err := validStream(name); err != nil {
		return journal.Head{}, err
	}
	s.mu.RLock()
	if st, ok := s.streams[name]; ok && st.w != nil && st.w.err() == nil {
		h := st.published()
		s.mu.RUnlock()
		return h, nil
	}
	s.mu.RUnlock()
	for _, t := range []string{s.cfg.EntriesTopic(name), s.cfg.CheckpointTopic(name)} {
		if err := s.admin.ensureTopic(ctx, t); err != nil {
			return journal.Head{}, err
		}
	}
	st, err := s.load(ctx, name)
	if err != nil {
		return journal.Head{}, err
	}
	st.acq.Lock()
	defer st.acq.Unlock()
	s.mu.RLock()
	w, failed, closed := st.w, st.failed, s.closed
	s.mu.RUnlock()
	switch {
	case closed:
		return journal.Head{}, journal.ErrClosed
	case failed != nil:
		return journal.Head{}, failed
	case w != nil && w.err() == nil:
		return s.headOf(st), nil
	case w != nil:
		tctx, cancel := context.WithTimeout(ctx, s.cfg.OperationTimeout)
		err := s.release(tctx, st)
		cancel()
		if err != nil {
			s.log.Warn("tearing down the failed writer", "stream", name, "err", err)
		}
	}
	client, prod, err := s.connect(ctx, st)
	if err != nil {
		if s.cfg.Follow {
			s.startFollower(st) // in case a failed writer was torn down
		}
		return journal.Head{}, err
	}
	s.stopFollower(st)
	fail := func(err error) (journal.Head, error) {
		prod.Close()
		client.Close()
		if errors.Is(err, journal.ErrCorrupt) {
			s.setFailed(st, err)
		} else if s.cfg.Follow {
			s.startFollower(st)
		}
		return journal.Head{}, err
	}
	if err := s.catchUp(ctx, st); err != nil {
		return fail(fmt.Errorf("stream %s: take over: %w", name, err))
	}
	if err := s.loadCheckpoint(ctx, st); err != nil {
		return fail(fmt.Errorf("stream %s: take over: %w", name, err))
	}
	w = s.newWriter(st, client, prod)
	s.mu.Lock()
	st.w = w
	s.mu.Unlock()
	go w.ackLoop()
	go w.flushLoop()
	h := s.headOf(st)
	s.log.Info("writing stream", "stream", name, "head", h.Seq)
	return h, nil
}

func (s *Store) headOf(st *stream) journal.Head {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return st.published()
}

// ReleaseStream stops writing stream after the pending appends, stores a
// final checkpoint and closes the producer, so a standby can take over.
// The store keeps following the stream when Config.Follow is set.
func (s *Store) ReleaseStream(ctx context.Context, name string) error {
	s.mu.RLock()
	st, ok := s.streams[name]
	s.mu.RUnlock()
	if !ok {
		return nil
	}
	st.acq.Lock()
	defer st.acq.Unlock()
	err := s.release(ctx, st)
	if s.cfg.Follow {
		s.startFollower(st)
	}
	return err
}

// Writing reports whether this store holds stream's producer and can append.
func (s *Store) Writing(name string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, ok := s.streams[name]
	return ok && st.w != nil && st.w.err() == nil
}

// connect opens a client of its own for the stream and waits for the
// exclusive producer. Closing that client is the only way to withdraw a
// waiting producer, as creation takes no context.
func (s *Store) connect(ctx context.Context, st *stream) (pulsar.Client, pulsar.Producer, error) {
	bo := s.backoff()
	waiting := time.Now()
	for attempt := 0; ; attempt++ {
		client, err := s.newClient(-1)
		if err != nil {
			return nil, nil, err
		}
		type result struct {
			p   pulsar.Producer
			err error
		}
		ch := make(chan result, 1)
		go func() {
			p, err := client.CreateProducer(pulsar.ProducerOptions{
				Topic:           st.topic,
				Name:            st.name,
				DisableBatching: true,
				SendTimeout:     -1, // a timed-out message would leave a hole behind later ones
				// The writer's budget bounds what is in flight; the
				// client's queue must never block a send (a send blocked
				// there when the producer closes is never answered).
				MaxPendingMessages: 2*s.cfg.MaxPendingMessages + 16,
				ProducerAccessMode: pulsar.ProducerAccessModeWaitForExclusive,
				BackOffPolicyFunc:  s.backoff,
			})
			ch <- result{p, err}
		}()
		note := time.NewTimer(2 * time.Second)
		var r result
		select {
		case r = <-ch:
		case <-note.C:
			s.log.Info("waiting for exclusive write access to stream: another producer holds its topic (another cairnd, which this node replaces when it stops, or a foreign producer, which must be stopped)",
				"stream", st.name, "topic", st.topic, "holders", s.admin.publishers(ctx, st.topic))
			select {
			case r = <-ch:
			case <-ctx.Done():
				r.err = ctx.Err()
			case <-s.ctx.Done():
				r.err = journal.ErrClosed
			}
		case <-ctx.Done():
			r.err = ctx.Err()
		case <-s.ctx.Done():
			r.err = journal.ErrClosed
		}
		note.Stop()
		if r.p != nil && r.err == nil {
			if attempt > 0 || time.Since(waiting) > 2*time.Second {
				s.log.Info("took over stream", "stream", st.name, "waited", time.Since(waiting).Round(time.Millisecond))
			}
			return client, r.p, nil
		}
		client.Close() // withdraws a producer still waiting
		if ctx.Err() != nil || s.ctx.Err() != nil {
			return nil, nil, fmt.Errorf("wait for exclusive write access to stream %s: %w", st.name, r.err)
		}
		s.log.Warn("creating the stream's exclusive producer failed; retrying", "stream", st.name, "err", r.err)
		select {
		case <-time.After(bo.Next()):
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("%w: exclusive producer for %s: %v (last error)", ErrBrokerUnreachable, st.topic, r.err)
		case <-s.ctx.Done():
			return nil, nil, journal.ErrClosed
		}
	}
}

func (s *Store) newWriter(st *stream, client pulsar.Client, prod pulsar.Producer) *writer {
	s.mu.RLock()
	h, cr := st.head, st.cr.Clone()
	s.mu.RUnlock()
	w := &writer{
		s: s, st: st, client: client, prod: prod, ctx: s.wctx,
		groups: make(chan *group, 4096), done: make(chan struct{}), flushq: make(chan flushItem, 1024), flushd: make(chan struct{}),
		seq: h.seq, hash: h.hash, highWater: append([]byte(nil), h.highWater...), cr: cr,
		prodMax: map[string]uint64{}, inflightPos: map[string]uint64{}, inflightProd: map[prodKey]uint64{},
		ckptAt: time.Now(),
	}
	if h.highWater == nil {
		w.highWater = nil
	}
	w.failedCh = make(chan struct{})
	w.prodClosed = make(chan struct{})
	w.closeProd = sync.OnceFunc(func() {
		prod.Close()
		close(w.prodClosed)
	})
	w.budget = newBudget(int64(s.cfg.MaxPendingMessages), s.cfg.MaxPendingBytes)
	return w
}

func (w *writer) err() error {
	w.failMu.Lock()
	defer w.failMu.Unlock()
	return w.failed
}

// poison fails the writer: it closes the producer so nothing sent after the
// failure can be acknowledged, and returns the error every later append gets.
func (w *writer) poison(cause error) error {
	w.failMu.Lock()
	defer w.failMu.Unlock()
	if w.failed == nil {
		what := "call AcquireStream (or reopen the store) to continue from what reached Pulsar"
		if errors.Is(cause, pulsar.ErrProducerFenced) && !errors.Is(cause, ErrTakenOver) {
			cause = fmt.Errorf("%w (producer fenced): %v", ErrTakenOver, cause)
		}
		w.failed = fmt.Errorf("%w: stream %s: %w; %s", journal.ErrStoreFailed, w.st.name, cause, what)
		w.s.log.Error("stream writer failed; appends are refused until it is acquired again", "stream", w.st.name, "err", cause)
		close(w.failedCh)
		go w.closeProd()
	}
	return w.failed
}

// submit sends a request and waits for its outcome. Once sent, the
// request is answered only when its entries are durable or failed, even if
// ctx ends: that tells the caller the truth.
func (w *writer) submit(ctx context.Context, req *request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.sendMu.Lock()
	if w.closed {
		w.sendMu.Unlock()
		if w.s.ctx.Err() != nil {
			return journal.ErrClosed
		}
		return fmt.Errorf("%w: stream %s was released", ErrNotWriter, w.st.name)
	}
	w.groups <- w.build([]*request{req})
	w.sendMu.Unlock()
	return <-req.done
}

// stopSending refuses further appends and lets the acker finish.
func (w *writer) stopSending() {
	w.sendMu.Lock()
	defer w.sendMu.Unlock()
	if !w.closed {
		w.closed = true
		close(w.groups)
	}
}

// build applies dedup, assigns seqs and sends the group's entries. The
// caller holds sendMu.
func (w *writer) build(batch []*request) *group {
	g := &group{reqs: batch, done: make(chan struct{})}
	fail := func(err error) *group {
		g.err = w.poison(err)
		close(g.done)
		return g
	}
	if err := w.err(); err != nil {
		g.err = err
		close(g.done)
		return g
	}
	now := time.Now().UTC().Truncate(time.Millisecond) // Pulsar keeps event time in milliseconds
	var msgs []*pulsar.ProducerMessage
	for _, r := range batch {
		if r.ckpt {
			g.ckpt = true
			continue
		}
		r.results = make([]journal.AppendResult, len(r.entries))
		for i := range r.entries {
			e := &r.entries[i]
			dup, seq, err := w.duplicate(e)
			if err != nil {
				return fail(err)
			}
			if dup {
				r.results[i] = journal.AppendResult{Seq: seq, Duplicate: true}
				continue
			}
			w.seq++
			e.Stream, e.Seq, e.PrevHash, e.RecordedAt = w.st.name, w.seq, w.hash, now
			payload, err := journal.AppendEntryBytes(getBuf(journal.EncodedSize(e)), e)
			if err != nil {
				return fail(err)
			}
			h := journal.HashEntryBytes(payload)
			w.tree = w.cr.Append(h, w.tree[:0])
			g.recs = append(g.recs, indexRec{seq: w.seq, hash: h, pos: noPos, nodes: append([]journal.Hash(nil), w.tree[1:]...),
				srcPos: e.SourcePosition, producer: e.ProducerID, pseq: e.ProducerSeq})
			sid := int64(w.seq)
			msgs = append(msgs, &pulsar.ProducerMessage{Payload: payload, SequenceID: &sid, EventTime: now})
			w.hash = h
			w.mu.Lock()
			if len(e.SourcePosition) > 0 {
				w.highWater = append([]byte(nil), e.SourcePosition...) // the caller owns its slice
				w.inflightPos[string(e.SourcePosition)] = w.seq
			}
			if e.ProducerID != "" {
				w.inflightProd[prodKey{e.ProducerID, e.ProducerSeq}] = w.seq
				if m, ok := w.prodMax[e.ProducerID]; !ok || e.ProducerSeq > m {
					w.prodMax[e.ProducerID] = e.ProducerSeq
				}
			}
			w.mu.Unlock()
			r.results[i] = journal.AppendResult{Seq: w.seq}
		}
	}
	g.head = cachedHead{seq: w.seq, hash: w.hash, highWater: append([]byte(nil), w.highWater...)}
	if w.highWater == nil {
		g.head.highWater = nil
	}
	g.cr = w.cr.Clone()
	g.pending.Store(int64(len(msgs)))
	if len(msgs) == 0 {
		close(g.done)
		return g
	}
	start := 0
	if !w.probed {
		// The first message after taking over goes alone: see the comment
		// at the top of this file on -1:-1 acknowledgements.
		probe := make(chan error, 1)
		n := int64(len(msgs[0].Payload))
		w.budget.acquire(n, nil)
		w.prod.SendAsync(context.Background(), msgs[0], func(id pulsar.MessageID, m *pulsar.ProducerMessage, err error) {
			if err == nil {
				g.recs[0].pos = posOf(id)
			}
			w.budget.release(n)
			putBuf(m.Payload)
			probe <- err
		})
		var err error
		select {
		case err = <-probe:
		case <-w.prodClosed: // closed before the probe was answered: it never will be
			err = w.err()
		}
		if err == nil && !g.recs[0].pos.valid() {
			err = w.s.verifyWritten(w.ctx, w.st, w.s.headPos(w.st), g.recs[:1])
		} else if err != nil {
			err = fmt.Errorf("send seq %d: %w", g.recs[0].seq, err)
		}
		if err != nil {
			g.fail(w.poison(err))
			g.settle(int64(len(msgs)))
			return g
		}
		w.probed = true
		start = 1
		g.settle(1)
	}
	for i := start; i < len(msgs); i++ {
		// Wait for room in the pipeline. A message the client refuses at
		// once (too large for the broker) fails inside SendAsync and
		// poisons the writer: send nothing after it.
		n := int64(len(msgs[i].Payload))
		took := w.budget.acquire(n, w.failedCh)
		if err := w.err(); !took || err != nil {
			if took {
				w.budget.release(n)
			}
			g.fail(err)
			g.settle(int64(len(msgs) - i))
			break
		}
		w.send(g, i, msgs[i], n)
	}
	return g
}

func (w *writer) send(g *group, i int, m *pulsar.ProducerMessage, n int64) {
	w.prod.SendAsync(context.Background(), m, func(id pulsar.MessageID, m *pulsar.ProducerMessage, err error) {
		if err != nil {
			g.fail(w.poison(fmt.Errorf("send seq %d: %w", g.recs[i].seq, err)))
		} else {
			g.mu.Lock()
			if !g.gaveUp {
				g.recs[i].pos = posOf(id)
			}
			g.mu.Unlock()
		}
		w.budget.release(n)
		putBuf(m.Payload)
		g.settle(1)
	})
}

// budget bounds what is in flight: messages and bytes. One message is
// always let through, however large.
type budget struct {
	mu               sync.Mutex
	msgs, bytes      int64
	maxMsgs, maxByte int64
	wake             chan struct{}
}

func newBudget(msgs, bytes int64) *budget {
	return &budget{maxMsgs: msgs, maxByte: bytes, wake: make(chan struct{})}
}

// acquire waits for room for a message of n bytes; false if abort closed first.
func (b *budget) acquire(n int64, abort <-chan struct{}) bool {
	for {
		b.mu.Lock()
		if b.msgs == 0 || (b.msgs < b.maxMsgs && b.bytes+n <= b.maxByte) {
			b.msgs++
			b.bytes += n
			b.mu.Unlock()
			return true
		}
		wake := b.wake
		b.mu.Unlock()
		select {
		case <-wake:
		case <-abort:
			return false
		}
	}
}

func (b *budget) release(n int64) {
	b.mu.Lock()
	b.msgs--
	b.bytes -= n
	close(b.wake)
	b.wake = make(chan struct{})
	b.mu.Unlock()
}

// Payload buffers are reused: the client copies a payload when it frames
// the message and is done with it when the send callback runs.
var bufPool sync.Pool

func getBuf(n int) []byte {
	if p, ok := bufPool.Get().(*[]byte); ok && cap(*p) >= n {
		return (*p)[:0]
	}
	return make([]byte, 0, n)
}

func putBuf(b []byte) {
	if cap(b) > 0 && cap(b) <= 1<<20 {
		bufPool.Put(&b)
	}
}

// duplicate applies the two dedup rules to e.
func (w *writer) duplicate(e *journal.Entry) (bool, uint64, error) {
	c, id := w.s.cache, w.st.id
	if len(e.SourcePosition) > 0 && w.highWater != nil && bytes.Compare(e.SourcePosition, w.highWater) <= 0 {
		w.mu.Lock()
		seq, ok := w.inflightPos[string(e.SourcePosition)]
		w.mu.Unlock()
		if ok {
			return true, seq, nil
		}
		seq, _, err := c.lookup(positionKey(id, e.SourcePosition))
		if err != nil {
			return false, 0, fmt.Errorf("look up source position in the local index: %w", err)
		}
		return true, seq, nil
	}
	if e.ProducerID == "" {
		return false, 0, nil
	}
	w.mu.Lock()
	seq, ok := w.inflightProd[prodKey{e.ProducerID, e.ProducerSeq}]
	w.mu.Unlock()
	if ok {
		return true, seq, nil
	}
	max, known := w.prodMax[e.ProducerID]
	if !known {
		m, err := c.producerMax(id, e.ProducerID)
		if err != nil {
			return false, 0, fmt.Errorf("read producer %q state from the local index: %w", e.ProducerID, err)
		}
		if m == nil {
			return false, 0, nil
		}
		max = *m
		w.prodMax[e.ProducerID] = max
	}
	if e.ProducerSeq > max {
		return false, 0, nil
	}
	seq, found, err := c.lookup(producerKey(id, e.ProducerID, e.ProducerSeq))
	if err != nil {
		return false, 0, fmt.Errorf("look up producer %q seq %d in the local index: %w", e.ProducerID, e.ProducerSeq, err)
	}
	return found, seq, nil
}
