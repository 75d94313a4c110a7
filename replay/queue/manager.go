package queue

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/replay/state"
)

// Token identifies one lease of one entry: the entry's seq, the 1-based
// delivery attempt, and a fresh random UUID (D format) per lease grant. It is
// a fencing token: only the current lease's token can ack, nack or extend.
type Token struct {
	SequenceID uint64
	Attempt    uint32
	LeaseID    string
}

// String formats the token as SafeTaskQueue's ToString does:
// seq:attempt:leaseId with the lease id in N format (32 hex digits).
func (t Token) String() string {
	id := t.LeaseID
	if u, err := uuid.Parse(id); err == nil {
		id = hex.EncodeToString(u[:])
	}
	return fmt.Sprintf("%d:%d:%s", t.SequenceID, t.Attempt, id)
}

// Leased is one entry handed out by Lease.
type Leased struct {
	Token    Token
	Record   journal.Record
	Deadline time.Time
}

// Result is the outcome of Ack, Nack or Extend: how many tokens took effect,
// and why each other one did not.
type Result struct {
	Done     int
	Rejected []Rejection
}

// Rejection is a token that took no effect. Err wraps ErrLeaseInactive (or
// ErrInvalidArgument for a malformed token).
type Rejection struct {
	Token Token
	Err   error
}

// Status is a snapshot of one group.
type Status struct {
	Stream, Group string
	// Pending counts admitted, unfinished entries that are not leased: ready,
	// waiting behind an earlier entry with the same key, or nack-delayed.
	// Entries the group has not admitted yet (NextSeq..HeadSeq) are not counted.
	Pending int
	// Delayed counts the pending entries held back by a nack delay.
	Delayed int
	// InFlight counts entries under an active lease.
	InFlight int
	// Acked and DeadLettered are lifetime tallies; each entry counts once.
	Acked, DeadLettered uint64
	// AckFloor is the lowest unfinished seq: every seq below it is acked,
	// dead-lettered or not deliverable.
	AckFloor uint64
	// NextSeq is the first journal seq the group has not admitted yet.
	NextSeq uint64
	// HeadSeq is the stream's last durable seq.
	HeadSeq uint64
}

// DeadLetter is an entry that used up its delivery attempts.
type DeadLetter struct {
	Record    journal.Record
	Attempts  uint32
	LastToken Token
	Reason    string
	At        time.Time
}

// Manager runs the consumer groups of every stream of one journal.
//
// Lock order: Manager.mu is never held while waiting for a group's mu; a
// call holding a group's mu may take Manager.mu briefly (to drop the group).
type Manager struct {
	store journal.Store
	st    *state.DB
	opts  Options
	log   *slog.Logger

	mu     sync.Mutex
	groups map[string]*grp // by stream 0x00 group
	closed bool
	done   chan struct{}
	ops    sync.WaitGroup
}

// NewManager returns a Manager over store that keeps group state in st.
// Zero Options fields take their defaults; fields Options.Validate rejects
// are replaced by defaults too, with a warning in the log. The Manager does
// not close store or st.
func NewManager(store journal.Store, st *state.DB, opts Options) *Manager {
	if store == nil || st == nil {
		panic("queue.NewManager: a journal store and a state store are required")
	}
	bad := opts.Validate()
	opts = opts.withDefaults()
	if bad != nil {
		d := DefaultOptions()
		opts.Logger.Warn("queue options: using defaults for the lease bounds", "err", bad, "default_lease", d.DefaultLease, "max_lease", d.MaxLease)
		opts.DefaultLease, opts.MaxLease = d.DefaultLease, d.MaxLease
	}
	return &Manager{
		store:  store,
		st:     st,
		opts:   opts,
		log:    opts.Logger,
		groups: map[string]*grp{},
		done:   make(chan struct{}),
	}
}

func (m *Manager) now() time.Time { return m.opts.Now() }

func (m *Manager) enter() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return fmt.Errorf("%w: create a new Manager (or retry against the restarted server)", ErrClosed)
	}
	m.ops.Add(1)
	return nil
}

func (m *Manager) leave() { m.ops.Done() }

var groupNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

func checkNames(stream, group string) error {
	if err := journal.ValidateStreamName(stream); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	if !groupNameRE.MatchString(group) {
		return fmt.Errorf("%w: group name %q (use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit)", ErrInvalidArgument, group)
	}
	return nil
}

// acquire returns the group locked, loading it on first use. With create,
// a group that does not exist yet is created (in memory; durable at the
// call's write); without, it is ErrUnknownGroup.
func (m *Manager) acquire(ctx context.Context, stream, name string, create bool) (*grp, error) {
	k := stream + "\x00" + name
	for {
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			return nil, fmt.Errorf("%w: create a new Manager (or retry against the restarted server)", ErrClosed)
		}
		g := m.groups[k]
		if g == nil {
			g = newGroup(stream, name, m.opts)
			m.groups[k] = g
		}
		m.mu.Unlock()
		g.mu.Lock()
		if g.gone {
			g.mu.Unlock()
			continue
		}
		if !g.loaded {
			if err := m.load(ctx, g, create); err != nil {
				m.drop(g)
				g.mu.Unlock()
				return nil, err
			}
		}
		return g, nil
	}
}

// drop forgets g (called with g.mu held) so the next call reloads it from
// the state store.
func (m *Manager) drop(g *grp) {
	g.gone = true
	close(g.changed) // wake long-polls; they look the group up again
	g.changed = make(chan struct{})
	m.mu.Lock()
	if k := g.stream + "\x00" + g.name; m.groups[k] == g {
		delete(m.groups, k)
	}
	m.mu.Unlock()
}

// load reads g's durable state and re-admits [floor, next) from the journal.
func (m *Manager) load(ctx context.Context, g *grp, create bool) error {
	v, err := m.st.Get(g.mkey)
	if err != nil {
		return fmt.Errorf("load consumer group %q of stream %q: %w", g.name, g.stream, err)
	}
	now := m.now()
	if v == nil {
		if !create {
			return fmt.Errorf("%w: stream %q has no consumer group %q; a group is created by its first Lease, so check the stream and group names", ErrUnknownGroup, g.stream, g.name)
		}
		g.meta = meta{floor: 1, next: 1, createdNanos: nanos(now)}
		g.loaded = true
		g.log.Info("consumer group created")
		return nil
	}
	md, err := decodeMeta(v)
	if err != nil {
		return fmt.Errorf("load consumer group %q of stream %q: %w", g.name, g.stream, err)
	}
	recs := map[uint64]entryRec{}
	var garbage [][]byte
	err = m.st.Scan(g.eprefix, func(key, val []byte) error {
		seq, err := seqOfKey(g.eprefix, key)
		if err != nil {
			return err
		}
		if seq < md.floor {
			garbage = append(garbage, append([]byte(nil), key...))
			return nil
		}
		r, err := decodeEntryRec(val)
		if err != nil {
			return fmt.Errorf("seq %d: %w", seq, err)
		}
		recs[seq] = r
		if seq >= md.next {
			md.next = seq + 1
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load consumer group %q of stream %q: %w", g.name, g.stream, err)
	}
	end := md.next
	g.meta = md
	g.next = md.floor
	g.garbage = garbage
	c := newChange() // wake-ups only; nothing here needs writing
	for g.next < end {
		batch, err := m.store.Read(ctx, g.stream, g.next, int(min(end-g.next, journalReadMaxBatch)))
		if err != nil {
			return fmt.Errorf("load consumer group %q of stream %q: read seqs %d..%d from the journal: %w", g.name, g.stream, g.next, end-1, err)
		}
		if len(batch) == 0 {
			return fmt.Errorf("%w: group %q of stream %q has admitted seqs up to %d but the journal ends at %d; the journal was replaced by an older copy, restore the right one or delete the group's state", ErrCorruptState, g.name, g.stream, end-1, g.next-1)
		}
		for i := range batch {
			var rec *entryRec
			if r, ok := recs[batch[i].Seq]; ok {
				rec = &r
			}
			if _, err := g.admit(&batch[i], rec, now, c); err != nil {
				return err
			}
		}
	}
	g.advanceFloor(c)
	g.loaded, g.persisted = true, true
	g.log.Info("consumer group loaded", "ack_floor", g.floor, "next_seq", g.next, "unfinished", len(g.items), "in_flight", g.leased)
	return nil
}

// fill admits entries from the journal while the group has room. It
// reports whether it reached the head.
func (m *Manager) fill(ctx context.Context, g *grp, now time.Time, c *change) (bool, error) {
	for {
		room := m.opts.MaxInFlight - len(g.items)
		if room <= 0 {
			return false, nil
		}
		limit := min(max(room, 64), journalReadMaxBatch)
		batch, err := m.store.Read(ctx, g.stream, g.next, limit)
		if err != nil {
			return false, fmt.Errorf("read stream %q from seq %d for group %q: %w", g.stream, g.next, g.name, err)
		}
		for i := range batch {
			if len(g.items) >= m.opts.MaxInFlight {
				return false, nil
			}
			if _, err := g.admit(&batch[i], nil, now, c); err != nil {
				return false, err
			}
		}
		if len(batch) < limit {
			return true, nil
		}
	}
}

// records returns the records of items (in seq order): cached ones from
// memory, the others from the journal, reading a dense seq range in one go.
func (m *Manager) records(ctx context.Context, g *grp, items []*item) ([]journal.Record, error) {
	out := make([]journal.Record, len(items))
	var missing []int
	for i, it := range items {
		if it.rec != nil {
			out[i] = *it.rec
		} else {
			missing = append(missing, i)
		}
	}
	for len(missing) > 0 {
		// Take the longest prefix of missing whose seq range is at most
		// 4 times its length, and read that range once.
		from := items[missing[0]].seq
		n := 1
		for n < len(missing) {
			span := items[missing[n]].seq - from + 1
			if span > uint64(4*(n+1)) || span > journalReadMaxBatch {
				break
			}
			n++
		}
		last := items[missing[n-1]].seq
		recs, err := m.store.Read(ctx, g.stream, from, int(last-from+1))
		if err != nil {
			return nil, fmt.Errorf("read seqs %d..%d of stream %q for group %q: %w", from, last, g.stream, g.name, err)
		}
		for _, i := range missing[:n] {
			k := items[i].seq - from
			if k >= uint64(len(recs)) || recs[k].Seq != items[i].seq {
				return nil, fmt.Errorf("%w: stream %q did not return seq %d for group %q; run cairn verify", ErrCorruptState, g.stream, items[i].seq, g.name)
			}
			out[i] = recs[k]
		}
		missing = missing[n:]
	}
	return out, nil
}

func (m *Manager) leaseTime(lease time.Duration, what string) (time.Duration, error) {
	switch {
	case lease == 0:
		return m.opts.DefaultLease, nil
	case lease < 0 || lease > m.opts.MaxLease:
		return 0, fmt.Errorf("%w: %s lease %s is outside 0..%s; ask for at most MaxLease (0 means the default %s) and Extend long work", ErrInvalidArgument, what, lease, m.opts.MaxLease, m.opts.DefaultLease)
	}
	return lease, nil
}

// Lease hands out up to maxEntries entries of the group (above MaxBatch it is
// treated as MaxBatch), in seq order, each leased for lease (0 = the default
// lease). The group is created at seq 1 on its first Lease. With wait > 0,
// when nothing is leasable Lease waits up to wait (real time) for an entry to
// become leasable: appended to the journal, released by an ack, nack delay
// or lease expiry. It returns an empty slice when nothing came.
func (m *Manager) Lease(ctx context.Context, stream, group string, maxEntries int, lease time.Duration, wait time.Duration) ([]Leased, error) {
	if err := m.enter(); err != nil {
		return nil, err
	}
	defer m.leave()
	if err := checkNames(stream, group); err != nil {
		return nil, err
	}
	if maxEntries <= 0 {
		return nil, fmt.Errorf("%w: max is %d; ask for at least 1 entry (at most %d are returned per call)", ErrInvalidArgument, maxEntries, MaxBatch)
	}
	maxEntries = min(maxEntries, MaxBatch)
	d, err := m.leaseTime(lease, "Lease")
	if err != nil {
		return nil, err
	}
	if wait < 0 {
		return nil, fmt.Errorf("%w: wait is %s; use 0 to return at once or a positive long-poll time", ErrInvalidArgument, wait)
	}
	if _, err := m.store.Head(ctx, stream); err != nil {
		if errors.Is(err, journal.ErrUnknownStream) {
			return nil, fmt.Errorf("lease for group %q: stream %q has no entries in the journal (%w); check the stream name, or wait until it has been appended to", group, stream, err)
		}
		return nil, fmt.Errorf("lease for group %q: head of stream %q: %w", group, stream, err)
	}
	var until <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		until = t.C
	}
	for {
		g, err := m.acquire(ctx, stream, group, true)
		if err != nil {
			return nil, err
		}
		out, headReached, err := m.leaseOnce(ctx, g, maxEntries, d)
		if err != nil || len(out) > 0 || wait == 0 {
			g.mu.Unlock()
			if out == nil && err == nil {
				out = []Leased{}
			}
			return out, err
		}
		changed := g.changed
		after := g.next - 1
		var timer <-chan time.Time
		stopTimer := func() bool { return false }
		if len(g.timers) > 0 {
			// The next nack delay or lease deadline, measured on the
			// injectable clock and slept in real time.
			t := time.NewTimer(max(g.timers[0].due.Sub(m.now()), time.Millisecond))
			timer, stopTimer = t.C, t.Stop
		}
		g.mu.Unlock()

		var grown chan struct{}
		stopWait := func() {}
		if headReached {
			wctx, cancel := context.WithCancel(ctx)
			grown = make(chan struct{})
			go func() {
				if _, err := m.store.Wait(wctx, stream, after); err == nil {
					close(grown)
				}
			}()
			stopWait = cancel
		}
		select {
		case <-changed:
		case <-grown:
		case <-timer:
		case <-until:
			stopWait()
			stopTimer()
			return []Leased{}, nil
		case <-ctx.Done():
			stopWait()
			stopTimer()
			return nil, fmt.Errorf("lease for group %q of stream %q: %w", group, stream, ctx.Err())
		case <-m.done:
			stopWait()
			stopTimer()
			return nil, fmt.Errorf("%w: the server is shutting down; lease again after it restarts", ErrClosed)
		}
		stopWait()
		stopTimer()
	}
}

// leaseOnce is one pass of Lease with g locked.
func (m *Manager) leaseOnce(ctx context.Context, g *grp, n int, d time.Duration) ([]Leased, bool, error) {
	now := m.now()
	c := newChange()
	g.sweep(now, c)
	headReached, err := m.fill(ctx, g, now, c)
	if err != nil {
		return nil, false, m.abort(g, c, err)
	}
	g.advanceFloor(c)
	picked := make([]*item, 0, min(n, len(g.ready)))
	for len(picked) < n && len(g.ready) > 0 {
		picked = append(picked, heapPopReady(g))
	}
	recs, err := m.records(ctx, g, picked)
	ids := make([]uuid.UUID, len(picked))
	for i := range ids {
		if err == nil {
			ids[i], err = newLeaseID()
		}
	}
	if err != nil {
		for _, it := range picked {
			pushReady(g, it)
		}
		return nil, false, m.abort(g, c, err)
	}
	out := make([]Leased, len(picked))
	deadline := now.Add(d)
	for i, it := range picked {
		id := ids[i]
		g.release(it)
		it.attempt++
		it.lease = id
		it.state = stLeased
		it.due = deadline
		pushTimer(g, it)
		g.leased++
		c.entries[it.seq] = g.entryRecOf(it)
		out[i] = Leased{Token: Token{SequenceID: it.seq, Attempt: it.attempt, LeaseID: id.String()}, Record: recs[i], Deadline: deadline}
	}
	if err := g.persist(m.st, c); err != nil {
		m.drop(g)
		return nil, false, err
	}
	if len(c.dead) > 0 {
		g.broadcast()
	}
	return out, headReached, nil
}

// abort ends a failed leaseOnce: dead letters its sweep made are written
// anyway (memory must never be ahead of the store on a finished entry), and
// if that fails too the group is dropped and reloaded by the next call.
// Up to the points it is called from, c holds only the sweep's work.
func (m *Manager) abort(g *grp, c *change, err error) error {
	if len(c.dead) > 0 {
		if perr := g.persist(m.st, c); perr != nil {
			m.drop(g)
		}
	}
	return err
}

// settle runs fn on every well-formed token's active item with g locked,
// then writes the outcome once.
func (m *Manager) settle(ctx context.Context, stream, group string, tokens []Token, what string, fn func(g *grp, it *item, now time.Time, c *change)) (Result, error) {
	if err := m.enter(); err != nil {
		return Result{}, err
	}
	defer m.leave()
	if err := checkNames(stream, group); err != nil {
		return Result{}, err
	}
	if len(tokens) > MaxBatch {
		return Result{}, fmt.Errorf("%w: %s got %d tokens; send at most %d per call", ErrInvalidArgument, what, len(tokens), MaxBatch)
	}
	g, err := m.acquire(ctx, stream, group, false)
	if err != nil {
		return Result{}, err
	}
	defer g.mu.Unlock()
	now := m.now()
	c := newChange()
	g.sweep(now, c)
	var res Result
	for _, tok := range tokens {
		id, err := parseToken(tok)
		if err == nil {
			var it *item
			if it, err = g.active(tok, id, now); err == nil {
				fn(g, it, now, c)
				res.Done++
				continue
			}
		}
		res.Rejected = append(res.Rejected, Rejection{Token: tok, Err: err})
	}
	g.advanceFloor(c)
	if err := g.persist(m.st, c); err != nil {
		m.drop(g)
		return Result{}, err
	}
	if c.woke {
		g.broadcast()
	}
	return res, nil
}

// Ack finishes the entries of tokens. Tokens that are not active leases are
// rejected (ErrLeaseInactive) and change nothing; the rest are acked in one
// durable write.
func (m *Manager) Ack(ctx context.Context, stream, group string, tokens []Token) (Result, error) {
	return m.settle(ctx, stream, group, tokens, "Ack", func(g *grp, it *item, now time.Time, c *change) {
		g.finish(it, spanAcked, now, c)
		g.acked++
		c.entries[it.seq] = entryRec{status: statusAcked, attempt: it.attempt, lease: it.lease}
	})
}

// Nack gives the entries of tokens back: each becomes leasable again after
// delay (0 = at once) as attempt+1, or is dead-lettered when this was its
// last attempt (MaxAttempts). delay must be within 0..MaxLease.
func (m *Manager) Nack(ctx context.Context, stream, group string, tokens []Token, delay time.Duration) (Result, error) {
	if delay < 0 || delay > m.opts.MaxLease {
		return Result{}, fmt.Errorf("%w: Nack delay %s is outside 0..%s; use 0 to redeliver at once, and at most MaxLease", ErrInvalidArgument, delay, m.opts.MaxLease)
	}
	return m.settle(ctx, stream, group, tokens, "Nack", func(g *grp, it *item, now time.Time, c *change) {
		if it.attempt >= g.maxAttempts {
			g.deadLetter(it, now, fmt.Sprintf("nacked on the last attempt (%d of %d)", it.attempt, g.maxAttempts), c)
			return
		}
		g.leave(it)
		g.makeLeasable(it, now.Add(delay), now, c)
		if delay == 0 {
			it.due = time.Time{}
		}
		c.entries[it.seq] = g.entryRecOf(it)
	})
}

// Extend moves the deadline of the tokens' leases to now+lease (0 = the
// default lease). The token stays the same.
func (m *Manager) Extend(ctx context.Context, stream, group string, tokens []Token, lease time.Duration) (Result, error) {
	d, err := m.leaseTime(lease, "Extend")
	if err != nil {
		return Result{}, err
	}
	return m.settle(ctx, stream, group, tokens, "Extend", func(g *grp, it *item, now time.Time, c *change) {
		it.due = now.Add(d)
		fixTimer(g, it)
		c.entries[it.seq] = g.entryRecOf(it)
	})
}

// Status reports the group's counts and positions.
func (m *Manager) Status(ctx context.Context, stream, group string) (Status, error) {
	if err := m.enter(); err != nil {
		return Status{}, err
	}
	defer m.leave()
	if err := checkNames(stream, group); err != nil {
		return Status{}, err
	}
	g, err := m.acquire(ctx, stream, group, false)
	if err != nil {
		return Status{}, err
	}
	if err := m.sweepLocked(g); err != nil {
		g.mu.Unlock()
		return Status{}, err
	}
	s := Status{
		Stream: stream, Group: group,
		Pending:  len(g.items) - g.leased,
		Delayed:  g.delayed,
		InFlight: g.leased,
		Acked:    g.acked, DeadLettered: g.dead,
		AckFloor: g.floor, NextSeq: g.next,
	}
	g.mu.Unlock()
	h, err := m.store.Head(ctx, stream)
	if err != nil {
		return Status{}, fmt.Errorf("status of group %q: head of stream %q: %w", group, stream, err)
	}
	s.HeadSeq = h.Seq
	return s, nil
}

// sweepLocked expires every lease past its deadline and writes the dead
// letters that makes, one bounded write at a time.
func (m *Manager) sweepLocked(g *grp) error {
	now := m.now()
	for {
		c := newChange()
		g.sweep(now, c)
		g.advanceFloor(c)
		if len(c.dead) == 0 {
			return nil
		}
		if err := g.persist(m.st, c); err != nil {
			m.drop(g)
			return err
		}
		g.broadcast()
	}
}

// DeadLetters lists up to limit dead letters of the group (limit above 1000
// is treated as 1000) with seq >= fromSeq, in seq order.
func (m *Manager) DeadLetters(ctx context.Context, stream, group string, fromSeq uint64, limit int) ([]DeadLetter, error) {
	if err := m.enter(); err != nil {
		return nil, err
	}
	defer m.leave()
	if err := checkNames(stream, group); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, fmt.Errorf("%w: limit is %d; ask for at least 1 dead letter (at most %d per call)", ErrInvalidArgument, limit, maxDeadLetterPage)
	}
	limit = min(limit, maxDeadLetterPage)
	g, err := m.acquire(ctx, stream, group, false)
	if err != nil {
		return nil, err
	}
	err = m.sweepLocked(g)
	g.mu.Unlock()
	if err != nil {
		return nil, err
	}
	prefix := deadPrefix(stream, group)
	var out []DeadLetter
	errFull := errors.New("page full")
	start := seqKey(prefix, fromSeq)
	err = m.st.ScanFrom(prefix, start, func(key, val []byte) error {
		seq, err := seqOfKey(prefix, key)
		if err != nil {
			return err
		}
		if seq < fromSeq {
			return nil
		}
		d, err := decodeDeadRec(val)
		if err != nil {
			return fmt.Errorf("seq %d: %w", seq, err)
		}
		out = append(out, DeadLetter{
			Attempts:  d.attempts,
			LastToken: Token{SequenceID: seq, Attempt: d.lastAttempt, LeaseID: d.lastLease.String()},
			Reason:    d.reason,
			At:        d.at,
		})
		if len(out) == limit {
			return errFull
		}
		return ctx.Err()
	})
	if err != nil && !errors.Is(err, errFull) {
		return nil, fmt.Errorf("list dead letters of group %q of stream %q: %w", group, stream, err)
	}
	for i := range out {
		seq := out[i].LastToken.SequenceID
		recs, err := m.store.Read(ctx, stream, seq, 1)
		if err != nil {
			return nil, fmt.Errorf("read dead letter seq %d of stream %q: %w", seq, stream, err)
		}
		if len(recs) != 1 || recs[0].Seq != seq {
			return nil, fmt.Errorf("%w: dead letter seq %d of group %q is not in stream %q; run cairn verify", ErrCorruptState, seq, group, stream)
		}
		out[i].Record = recs[0]
	}
	if out == nil {
		out = []DeadLetter{}
	}
	return out, nil
}

// Groups lists the stream's consumer groups by name.
func (m *Manager) Groups(ctx context.Context, stream string) ([]string, error) {
	if err := m.enter(); err != nil {
		return nil, err
	}
	defer m.leave()
	if err := journal.ValidateStreamName(stream); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	if _, err := m.store.Head(ctx, stream); err != nil {
		return nil, fmt.Errorf("list groups: stream %q: %w; check the stream name", stream, err)
	}
	prefix := groupsPrefix(stream)
	names := []string{}
	err := m.st.Scan(prefix, func(key, _ []byte) error {
		names = append(names, string(key[len(prefix):]))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list groups of stream %q: %w", stream, err)
	}
	return names, nil
}

// Close stops the Manager: waiting Leases return ErrClosed, calls in
// progress finish, and later calls fail with ErrClosed. Leases stay valid
// (they are durable) for a new Manager on the same state. Close does not
// close the journal or the state store.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	close(m.done)
	groups := make([]*grp, 0, len(m.groups))
	for _, g := range m.groups {
		groups = append(groups, g)
	}
	m.mu.Unlock()
	m.ops.Wait()
	var first error
	for _, g := range groups {
		g.mu.Lock()
		for len(g.garbage) > 0 && !g.gone {
			n := min(len(g.garbage), gcDeletesPerUpdate)
			if err := m.st.Update(nil, g.garbage[:n]); err != nil {
				if first == nil {
					first = fmt.Errorf("close: clean up group %q of stream %q: %w (harmless: the next start cleans up)", g.name, g.stream, err)
				}
				break
			}
			g.garbage = g.garbage[n:]
		}
		g.mu.Unlock()
	}
	return first
}
