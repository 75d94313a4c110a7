package queue

import (
	"container/heap"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/replay/state"
)

// itemState is where an admitted, unfinished entry stands.
type itemState uint8

const (
	stWaiting itemState = iota // behind an earlier unfinished entry with the same ordering key
	stReady                    // leasable now (in the ready heap)
	stDelayed                  // nacked with a delay (in the timer heap until due)
	stLeased                   // leased until due (in the timer heap)
)

// item is one admitted, unfinished, deliverable entry. Records are not kept
// in memory; Lease reads them from the journal again.
type item struct {
	seq     uint64
	key     string // ordering key (table 0x00 key); "" when the entry has no key
	attempt uint32 // deliveries started so far
	lease   uuid.UUID
	due     time.Time // deadline when leased, not-before when delayed
	state   itemState
	hidx    int             // index in the ready or timer heap, -1 when in neither
	next    *item           // next unfinished entry with the same key, in seq order
	rec     *journal.Record // read at admission, kept until the first lease (within recordCacheBytes)
	recSize int
}

// chain links the unfinished entries of one ordering key in seq order. Only
// the head can be leased, so only the head is ever ready, delayed or leased.
type chain struct{ head, tail *item }

// span values: what is known of each seq in [floor, next).
const (
	spanOpen  byte = iota // unfinished (in items)
	spanSkip              // not deliverable (tx_begin, heartbeat, ...): finished, no durable key
	spanAcked             // acked above the floor: durable key until the floor passes it
	spanDead              // dead-lettered above the floor: durable key until the floor passes it
)

// group is one consumer group of one stream. Every field below mu is
// guarded by mu; a call holds mu from its first read to the end of its
// state write, so each call is one atomic step.
type grp struct {
	mu sync.Mutex

	stream, name string
	mkey         []byte
	eprefix      []byte
	dprefix      []byte
	maxAttempts  uint32
	log          *slog.Logger

	loaded    bool // state read from the store
	gone      bool // dropped from the manager (failed load or write): callers must look it up again
	persisted bool // the meta key exists

	meta           // floor, next, tallies
	span    []byte // span[i] describes seq floor+i, for floor <= seq < next
	items   map[uint64]*item
	chains  map[string]*chain
	ready   readyHeap
	timers  timerHeap
	leased  int
	delayed int
	garbage [][]byte // entry keys below the floor still to delete, a bounded slice per write
	cached  int      // bytes of records held by items (at most recordCacheBytes)

	changed chan struct{} // closed and replaced whenever an entry may have become leasable
}

func newGroup(stream, name string, o Options) *grp {
	return &grp{
		stream: stream, name: name,
		mkey:        metaKey(stream, name),
		eprefix:     entryPrefix(stream, name),
		dprefix:     deadPrefix(stream, name),
		maxAttempts: uint32(o.MaxAttempts),
		log:         o.Logger.With("stream", stream, "group", name),
		items:       map[uint64]*item{},
		chains:      map[string]*chain{},
		changed:     make(chan struct{}),
	}
}

// change collects the durable effect of one call for one state.Update.
type change struct {
	entries map[uint64]entryRec
	dead    []state.KV
	dirty   bool // meta changed
	woke    bool // an entry may have become leasable or room was freed
}

func newChange() *change { return &change{entries: map[uint64]entryRec{}} }

func deliverable(k journal.Kind) bool {
	return k == journal.KindChange || k == journal.KindSnapshotRead || k == journal.KindAppEvent
}

func orderKey(e *journal.Entry) string {
	if len(e.Key) == 0 {
		return ""
	}
	return e.Table + "\x00" + string(e.Key)
}

// admit adds the record at g.next. It returns the new item, or nil when the
// entry is not deliverable. rec, when not nil, is the entry's durable state
// (on load).
func (g *grp) admit(r *journal.Record, rec *entryRec, now time.Time, c *change) (*item, error) {
	if r.Seq != g.next {
		return nil, fmt.Errorf("%w: stream %q returned seq %d where group %q expected %d; the journal has a gap, run cairn verify", ErrCorruptState, g.stream, r.Seq, g.name, g.next)
	}
	g.next++
	if rec != nil && rec.status != statusOpen {
		if rec.status == statusAcked {
			g.span = append(g.span, spanAcked)
		} else {
			g.span = append(g.span, spanDead)
		}
		return nil, nil
	}
	if !deliverable(r.Kind) {
		g.span = append(g.span, spanSkip)
		return nil, nil
	}
	it := &item{seq: r.Seq, key: orderKey(&r.Entry), hidx: -1}
	if rec == nil || rec.attempt == 0 {
		g.keep(it, r)
	}
	g.items[it.seq] = it
	g.span = append(g.span, spanOpen)
	if it.key != "" {
		if ch := g.chains[it.key]; ch != nil {
			ch.tail.next = it
			ch.tail = it
			it.state = stWaiting
			if rec != nil {
				it.attempt = rec.attempt // only heads are ever leased; keep the count anyway
			}
			return it, nil
		}
		g.chains[it.key] = &chain{head: it, tail: it}
	}
	if rec == nil {
		g.makeLeasable(it, time.Time{}, now, c)
		return it, nil
	}
	it.attempt = rec.attempt
	switch {
	case !rec.deadline.IsZero() && rec.lease != uuid.Nil:
		// A lease that was active before the restart stays valid until its
		// deadline; a past deadline expires at the next sweep.
		it.lease = rec.lease
		it.state = stLeased
		it.due = rec.deadline
		heap.Push(&g.timers, it)
		g.leased++
	default:
		g.makeLeasable(it, rec.notBefore, now, c)
	}
	return it, nil
}

// keep caches the record of a fresh item while the budget allows: most
// entries are leased once, soon after admission, and need no second read.
func (g *grp) keep(it *item, r *journal.Record) {
	size := recordSize(r)
	if g.cached+size > recordCacheBytes {
		return
	}
	c := *r
	it.rec, it.recSize = &c, size
	g.cached += size
}

// release drops the cached record of it.
func (g *grp) release(it *item) {
	g.cached -= it.recSize
	it.rec, it.recSize = nil, 0
}

func recordSize(r *journal.Record) int {
	n := 256 + len(r.Stream) + len(r.SourceID) + len(r.SourcePosition) + len(r.TxID) + len(r.Table) + len(r.Key) +
		len(r.Before) + len(r.After) + len(r.SchemaFingerprint) + len(r.ProducerID) + len(r.Payload)
	for k, v := range r.Metadata {
		n += 32 + len(k) + len(v)
	}
	return n
}

// makeLeasable puts an unleased head (or unkeyed item) in the ready heap, or
// in the timer heap until notBefore.
func (g *grp) makeLeasable(it *item, notBefore, now time.Time, c *change) {
	it.lease = uuid.Nil
	if notBefore.After(now) {
		it.state = stDelayed
		it.due = notBefore
		heap.Push(&g.timers, it)
		g.delayed++
		return
	}
	it.state = stReady
	it.due = time.Time{}
	heap.Push(&g.ready, it)
	c.woke = true
}

// leave takes it out of whatever heap and tally it is in.
func (g *grp) leave(it *item) {
	switch it.state {
	case stReady:
		if it.hidx >= 0 {
			heap.Remove(&g.ready, it.hidx)
		}
	case stDelayed, stLeased:
		if it.hidx >= 0 {
			heap.Remove(&g.timers, it.hidx)
		}
		if it.state == stLeased {
			g.leased--
		} else {
			g.delayed--
		}
	}
	it.state = stWaiting
}

// finish marks it acked or dead and lets the next entry with its key go.
func (g *grp) finish(it *item, status byte, now time.Time, c *change) {
	g.leave(it)
	g.release(it)
	delete(g.items, it.seq)
	g.span[it.seq-g.floor] = status
	c.woke = true
	c.dirty = true
	if it.key == "" {
		return
	}
	ch := g.chains[it.key]
	if ch.head != it {
		// Only heads are leased, so only heads finish; unlink defensively.
		for p := ch.head; p != nil; p = p.next {
			if p.next == it {
				p.next = it.next
				if ch.tail == it {
					ch.tail = p
				}
				break
			}
		}
		return
	}
	ch.head = it.next
	it.next = nil
	if ch.head == nil {
		delete(g.chains, it.key)
		return
	}
	g.makeLeasable(ch.head, time.Time{}, now, c)
}

// advanceFloor moves the floor over every finished seq at its front and
// queues the durable keys of the ones passed for deletion.
func (g *grp) advanceFloor(c *change) {
	i := 0
	for i < len(g.span) && g.span[i] != spanOpen {
		if g.span[i] == spanAcked || g.span[i] == spanDead {
			seq := g.floor + uint64(i)
			g.garbage = append(g.garbage, seqKey(g.eprefix, seq))
			delete(c.entries, seq)
		}
		i++
	}
	if i == 0 {
		return
	}
	g.floor += uint64(i)
	g.span = g.span[i:]
	if cap(g.span) > 4096 && len(g.span) < cap(g.span)/4 {
		g.span = append(make([]byte, 0, 2*len(g.span)+64), g.span...)
	}
	c.dirty = true
}

// sweep releases delayed entries whose time has come and expires leases
// whose deadline has passed (redelivery, or a dead letter on the last attempt).
// At most maxDeadPerCall dead letters are made per call so that one call
// stays one Badger transaction; expired leases left over stay inactive (see
// active) and are swept by the next call.
func (g *grp) sweep(now time.Time, c *change) {
	for len(g.timers) > 0 && !g.timers[0].due.After(now) && len(c.dead) < maxDeadPerCall {
		it := heap.Pop(&g.timers).(*item)
		if it.state == stDelayed {
			g.delayed--
			it.state = stReady
			it.due = time.Time{}
			heap.Push(&g.ready, it)
			c.woke = true
			continue
		}
		g.leased--
		it.state = stWaiting
		if it.attempt >= g.maxAttempts {
			g.deadLetter(it, now, fmt.Sprintf("lease expired at %s on the last attempt (%d of %d)", it.due.UTC().Format(time.RFC3339Nano), it.attempt, g.maxAttempts), c)
			continue
		}
		g.log.Debug("lease expired; entry will be redelivered", "seq", it.seq, "attempt", it.attempt)
		g.makeLeasable(it, time.Time{}, now, c)
	}
}

func (g *grp) deadLetter(it *item, now time.Time, reason string, c *change) {
	d := deadRec{attempts: it.attempt, at: now, lastAttempt: it.attempt, lastLease: it.lease, reason: reason}
	g.finish(it, spanDead, now, c)
	g.dead++
	c.entries[it.seq] = entryRec{status: statusDead, attempt: it.attempt, lease: it.lease}
	c.dead = append(c.dead, state.KV{Key: seqKey(g.dprefix, it.seq), Value: d.encode()})
	g.log.Warn("entry dead-lettered", "seq", it.seq, "attempts", it.attempt, "reason", reason)
}

// active returns the item a token leases, or an ErrLeaseInactive error that
// says why the token is not (or no longer) the entry's lease.
func (g *grp) active(tok Token, id uuid.UUID, now time.Time) (*item, error) {
	if it := g.items[tok.SequenceID]; it != nil && it.state == stLeased && it.attempt == tok.Attempt && it.lease == id && it.due.After(now) {
		return it, nil
	}
	return nil, fmt.Errorf("%w: token %d:%d:%s of stream %q group %q: %s; drop the token, do not treat the work as committed, and lease again",
		ErrLeaseInactive, tok.SequenceID, tok.Attempt, tok.LeaseID, g.stream, g.name, g.whyInactive(tok, now))
}

func (g *grp) whyInactive(tok Token, now time.Time) string {
	seq := tok.SequenceID
	switch {
	case seq < g.floor:
		return fmt.Sprintf("seq %d is below the group's ack floor %d, so it was already acked or dead-lettered", seq, g.floor)
	case seq >= g.next:
		return fmt.Sprintf("seq %d has not been delivered to this group yet", seq)
	}
	switch g.span[seq-g.floor] {
	case spanAcked:
		return fmt.Sprintf("seq %d was already acked", seq)
	case spanDead:
		return fmt.Sprintf("seq %d was dead-lettered", seq)
	case spanSkip:
		return fmt.Sprintf("seq %d is not a deliverable entry (only change, snapshot_read and app_event entries are leased)", seq)
	}
	it := g.items[seq]
	switch {
	case it.state == stLeased && it.attempt == tok.Attempt && !it.due.After(now):
		return fmt.Sprintf("the lease of seq %d attempt %d expired at %s", seq, it.attempt, it.due.UTC().Format(time.RFC3339Nano))
	case it.state == stLeased && it.attempt != tok.Attempt:
		return fmt.Sprintf("seq %d is now leased as attempt %d, not %d", seq, it.attempt, tok.Attempt)
	case it.state == stLeased:
		return fmt.Sprintf("seq %d is leased under another lease id", seq)
	case it.attempt == 0:
		return fmt.Sprintf("seq %d has not been leased yet", seq)
	case it.attempt > tok.Attempt:
		return fmt.Sprintf("attempt %d of seq %d is over and the entry was leased again since", tok.Attempt, seq)
	default:
		return fmt.Sprintf("the lease of seq %d attempt %d expired or was nacked, and the entry waits for redelivery as attempt %d", seq, it.attempt, it.attempt+1)
	}
}

func (g *grp) entryRecOf(it *item) entryRec {
	r := entryRec{status: statusOpen, attempt: it.attempt, lease: it.lease}
	switch it.state {
	case stLeased:
		r.deadline = it.due
	case stDelayed:
		r.notBefore = it.due
	}
	return r
}

// persist writes c, the meta and a bounded slice of garbage in one
// state.Update. On failure the caller drops the group so the next call
// reloads what is durable.
func (g *grp) persist(st *state.DB, c *change) error {
	if !c.dirty && len(c.entries) == 0 && len(c.dead) == 0 && g.persisted {
		return nil
	}
	// The meta goes last: should Badger ever split the batch, a crash in
	// between leaves the floor behind the entries and dead letters it passes.
	puts := make([]state.KV, 0, 1+len(c.entries)+len(c.dead))
	for seq, r := range c.entries {
		if seq >= g.floor {
			puts = append(puts, state.KV{Key: seqKey(g.eprefix, seq), Value: r.encode()})
		}
	}
	puts = append(puts, c.dead...)
	puts = append(puts, state.KV{Key: g.mkey, Value: g.meta.encode()})
	n := min(len(g.garbage), gcDeletesPerUpdate)
	if err := st.Update(puts, g.garbage[:n]); err != nil {
		return fmt.Errorf("save consumer group %q of stream %q: %w; the call had no effect, retry it (check the state dir's disk if it keeps failing)", g.name, g.stream, err)
	}
	g.garbage = g.garbage[n:]
	if len(g.garbage) == 0 {
		g.garbage = nil
	}
	g.persisted = true
	return nil
}

func (g *grp) broadcast() {
	close(g.changed)
	g.changed = make(chan struct{})
}
