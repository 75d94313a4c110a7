package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/cairnlog/cairn/journal"
)

// Sentinel errors of package replay. Errors are wrapped with %w and a message
// that says what was wrong and what to do; test them with errors.Is.
var (
	// ErrInvalidArgument is a bad request: seq 0, a bad stream or
	// subscription name, an unknown op or kind in a filter, a bad page size.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrBeyondHead is a seq past the end of the journal.
	ErrBeyondHead = errors.New("seq is beyond the journal head")
)

// Page sizes of a Cursor.
const (
	DefaultPageSize = 256
	MaxPageSize     = 10000
)

// maxScratch bounds the encode buffer a verifying cursor keeps between
// records; a larger entry gets a buffer of its own that is then dropped.
const maxScratch = 1 << 20

// CursorOptions configure a Cursor.
type CursorOptions struct {
	// From is the first seq to consider (>= 1). From = head+1 starts at the
	// next entry to be appended.
	From uint64
	// Filter selects the records delivered (zero value: all). Records that
	// do not match are skipped but still advance Position.
	Filter Filter
	// TxComplete delivers an entry that belongs to a transaction (tx_begin,
	// its entries, tx_commit) only once the tx_commit is durable in the
	// journal. A journal that ends inside a transaction (the capture
	// stopped mid-transaction) is delivered up to just before that
	// transaction's tx_begin; with Follow the cursor then waits for the
	// commit. Memory stays bounded by PageSize whatever the transaction's size.
	TxComplete bool
	// Verify recomputes every record's hash from its canonical bytes and
	// checks the chain link to the record before it (for From > 1 the store's
	// record From-1, for From = 1 the zero genesis hash), and the head hash
	// when a record is the head the cursor last saw. A mismatch is a
	// *journal.VerifyError (errors.Is journal.ErrVerifyMismatch) naming the
	// stream and seq.
	Verify bool
	// PageSize is the number of journal records read per store call and the
	// most records one Next returns (0: DefaultPageSize; at most MaxPageSize).
	PageSize int
	// Follow makes Next wait at the head for new entries (live tailing)
	// until its context ends, instead of returning io.EOF.
	Follow bool
}

// Cursor reads one stream in seq order: catch-up from From, then, with
// Follow, live tailing. Next must be called from one goroutine at a time;
// Position may be called from any goroutine, also while Next is blocked.
//
// Unknown streams: NewCursor returns journal.ErrUnknownStream for a stream
// that has never been appended to, except with Follow and From = 1: then
// the cursor waits for the stream's first entry (a subscriber may start
// before the capture; the stream name is still validated, so a malformed
// name fails at once, but a well-formed typo waits).
type Cursor struct {
	store    journal.Store
	stream   string
	opts     CursorOptions
	pageSize int

	pos  atomic.Uint64 // last seq considered (delivered or filtered out)
	next uint64        // next seq to consider; pos = next-1 between calls

	exists  bool         // the stream existed when last looked at
	started bool         // the state below was initialised from record From-1
	head    journal.Head // the highest head seen (NewCursor, Wait)

	// TxComplete: every seq in [next, safe] may be delivered. The
	// transaction scanner has classified every seq below scan; inTx says
	// whether it is inside a transaction whose tx_commit it has not seen
	// (then the records in (safe, scan) wait for that commit). Nothing is
	// retained for the records between safe and scan: they are read again
	// for delivery once the commit is found.
	safe uint64
	scan uint64
	inTx bool

	// Verify: the hash of record next-1 (zero before seq 1).
	prev journal.Hash
	buf  []byte
}

// NewCursor opens a cursor on stream. It fails with ErrInvalidArgument for a
// nil store, a malformed stream name, From = 0, a bad page size or filter;
// with journal.ErrUnknownStream for a stream never appended to (see Cursor
// for the Follow exception); with ErrBeyondHead when From > head+1.
func NewCursor(store journal.Store, stream string, opts CursorOptions) (*Cursor, error) {
	if store == nil {
		return nil, fmt.Errorf("%w: no journal store", ErrInvalidArgument)
	}
	if err := journal.ValidateStreamName(stream); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	if opts.From == 0 {
		return nil, fmt.Errorf("%w: stream %s: from seq 0: seqs start at 1 (use 1 to replay the whole stream)", ErrInvalidArgument, stream)
	}
	switch {
	case opts.PageSize == 0:
		opts.PageSize = DefaultPageSize
	case opts.PageSize < 0 || opts.PageSize > MaxPageSize:
		return nil, fmt.Errorf("%w: page size %d (use 1 to %d, or 0 for %d)", ErrInvalidArgument, opts.PageSize, MaxPageSize, DefaultPageSize)
	}
	if err := opts.Filter.Validate(); err != nil {
		return nil, err
	}
	c := &Cursor{store: store, stream: stream, opts: opts, pageSize: opts.PageSize, next: opts.From}
	c.pos.Store(opts.From - 1)
	h, err := store.Head(context.Background(), stream)
	switch {
	case errors.Is(err, journal.ErrUnknownStream) && opts.Follow && opts.From == 1:
		return c, nil // waits for the first entry in Next
	case errors.Is(err, journal.ErrUnknownStream) && opts.Follow:
		return nil, fmt.Errorf("%w (a stream that does not exist yet can only be followed from seq 1, not %d)", err, opts.From)
	case err != nil:
		return nil, err
	}
	if opts.From > h.Seq+1 {
		return nil, beyondHead(stream, opts.From, h.Seq)
	}
	c.exists, c.head = true, h
	return c, nil
}

func beyondHead(stream string, seq, head uint64) error {
	return fmt.Errorf("%w: stream %s: seq %d, but the journal ends at seq %d: start at %d or earlier "+
		"(a position past the head usually comes from another journal, or from before this one was restored from an older backup; "+
		"resubscribe from a checkpoint this journal holds, or from 1)", ErrBeyondHead, stream, seq, head, head+1)
}

// Position is the last seq the cursor has considered, delivered or filtered
// out (From-1 before the first record). Resuming at Position()+1 misses
// nothing the filter selects. With TxComplete it never lies inside an
// uncommitted transaction. Safe to call concurrently with Next.
func (c *Cursor) Position() uint64 { return c.pos.Load() }

// Next returns the next batch of matching records in seq order (1 to
// PageSize records; never an empty batch with a nil error). It reads on
// through pages whose records are all filtered out. At the head it returns
// io.EOF, or with Follow waits for new entries until ctx ends (then it
// returns ctx.Err()). A cursor stays usable after io.EOF: a later Next
// continues with what was appended since. After any error the cursor is
// unchanged, so Next may be retried.
func (c *Cursor) Next(ctx context.Context) ([]journal.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !c.exists {
		h, err := c.wait(ctx, 0)
		if err != nil {
			return nil, err
		}
		c.exists, c.head = true, h
	}
	if !c.started {
		if err := c.start(ctx); err != nil {
			return nil, err
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var page []journal.Record
		switch {
		case !c.opts.TxComplete:
			recs, err := c.read(ctx, c.next, c.pageSize)
			if err != nil {
				return nil, err
			}
			if len(recs) == 0 {
				if err := c.atHead(ctx, c.next); err != nil {
					return nil, err
				}
				continue
			}
			page = recs
		case c.next <= c.safe:
			recs, err := c.read(ctx, c.next, int(min(uint64(c.pageSize), c.safe-c.next+1)))
			if err != nil {
				return nil, err
			}
			if len(recs) == 0 {
				return nil, fmt.Errorf("%w: stream %s: seq %d was read before but reading it again returned nothing", journal.ErrCorrupt, c.stream, c.next)
			}
			page = recs
		default:
			// Classify the next page for the transaction scanner. A page that
			// starts at next is also delivered up to the last safe record; a
			// page further ahead (inside a long transaction) is dropped.
			recs, err := c.read(ctx, c.scan, c.pageSize)
			if err != nil {
				return nil, err
			}
			if len(recs) == 0 {
				if err := c.atHead(ctx, c.scan); err != nil {
					return nil, err
				}
				continue
			}
			for i := range recs {
				c.classify(&recs[i])
			}
			c.scan = recs[len(recs)-1].Seq + 1
			if recs[0].Seq != c.next {
				continue
			}
			k := 0
			for k < len(recs) && recs[k].Seq <= c.safe {
				k++
			}
			if k == 0 {
				continue
			}
			page = recs[:k]
		}
		out, err := c.consume(page)
		if err != nil {
			return nil, err
		}
		if len(out) > 0 {
			return out, nil
		}
	}
}

// start reads record From-1 when the options need it: Verify takes its hash
// as the first link of the chain, TxComplete learns whether From lies inside
// a transaction.
func (c *Cursor) start(ctx context.Context) error {
	c.safe, c.scan = c.next-1, c.next
	if c.next > 1 && (c.opts.Verify || c.opts.TxComplete) {
		recs, err := c.read(ctx, c.next-1, 1)
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return fmt.Errorf("%w: stream %s: seq %d is below the head but cannot be read", journal.ErrCorrupt, c.stream, c.next-1)
		}
		r := &recs[0]
		if c.opts.Verify {
			h, err := c.check(r, r.PrevHash)
			if err != nil {
				return err
			}
			c.prev = h
		}
		// Record From-1 is inside a transaction when it opens one or is one
		// of its changes (the capture gives every change of a transaction
		// its tx_id); the scanner then looks for that transaction's commit.
		c.inTx = r.Kind == journal.KindTxBegin || r.Kind == journal.KindChange && r.TxID != ""
	}
	c.started = true
	return nil
}

// classify advances the transaction scanner over r.
func (c *Cursor) classify(r *journal.Record) {
	switch {
	case r.Kind == journal.KindTxBegin:
		// Held until its commit. A tx_begin inside an open transaction (whose
		// commit was never written) joins it: the next commit releases both.
		c.inTx = true
	case r.Kind == journal.KindTxCommit:
		c.inTx = false
		c.safe = r.Seq
	case !c.inTx:
		c.safe = r.Seq
	}
}

// read reads up to limit records from seq from and checks that they are the
// ones asked for.
func (c *Cursor) read(ctx context.Context, from uint64, limit int) ([]journal.Record, error) {
	recs, err := c.store.Read(ctx, c.stream, from, limit)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("replay: stream %s: read from seq %d: %w", c.stream, from, err)
	}
	if len(recs) > limit {
		return nil, fmt.Errorf("%w: stream %s: asked for %d records from seq %d, the store returned %d", journal.ErrCorrupt, c.stream, limit, from, len(recs))
	}
	for i := range recs {
		if want := from + uint64(i); recs[i].Seq != want {
			return nil, fmt.Errorf("%w: stream %s: expected seq %d, the store returned seq %d", journal.ErrCorrupt, c.stream, want, recs[i].Seq)
		}
	}
	if len(recs) == 0 && from <= c.head.Seq {
		return nil, fmt.Errorf("%w: stream %s: the head is at seq %d but reading from seq %d returned nothing", journal.ErrCorrupt, c.stream, c.head.Seq, from)
	}
	return recs, nil
}

// atHead is reached when nothing can be read from seq from: io.EOF, or with
// Follow a wait for the head to pass from-1.
func (c *Cursor) atHead(ctx context.Context, from uint64) error {
	if !c.opts.Follow {
		return io.EOF
	}
	h, err := c.wait(ctx, from-1)
	if err != nil {
		return err
	}
	if h.Seq > c.head.Seq {
		c.head = h
	}
	return nil
}

func (c *Cursor) wait(ctx context.Context, after uint64) (journal.Head, error) {
	h, err := c.store.Wait(ctx, c.stream, after)
	if err != nil {
		if ctx.Err() != nil {
			return h, ctx.Err()
		}
		return h, fmt.Errorf("replay: stream %s: wait for entries after seq %d: %w", c.stream, after, err)
	}
	return h, nil
}

// consume verifies page (records next, next+1, ...), advances the cursor past
// it and returns the matching records, filtered in place. Nothing changes if
// a record fails verification.
func (c *Cursor) consume(page []journal.Record) ([]journal.Record, error) {
	prev := c.prev
	out := page[:0]
	for i := range page {
		r := &page[i]
		if c.opts.Verify {
			h, err := c.check(r, prev)
			if err != nil {
				return nil, err
			}
			prev = h
		}
		if c.opts.Filter.Match(r) {
			out = append(out, *r)
		}
	}
	c.prev = prev
	c.next = page[len(page)-1].Seq + 1
	c.pos.Store(c.next - 1)
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// check verifies one record against the hash of the record before it and
// returns its recomputed hash.
func (c *Cursor) check(r *journal.Record, prev journal.Hash) (journal.Hash, error) {
	fail := func(format string, args ...any) error {
		return &journal.VerifyError{Stream: c.stream, Seq: r.Seq, What: "verify on read: " + fmt.Sprintf(format, args...)}
	}
	if r.Stream != c.stream {
		return journal.Hash{}, fail("the record names stream %q", r.Stream)
	}
	if r.PrevHash != prev {
		return journal.Hash{}, fail("chain broken: prev_hash is %s but seq %d has hash %s", r.PrevHash, r.Seq-1, prev)
	}
	b, err := journal.AppendEntryBytes(c.buf[:0], &r.Entry)
	if err != nil {
		return journal.Hash{}, fail("the entry does not encode: %v", err)
	}
	h := journal.HashEntryBytes(b)
	if cap(b) <= maxScratch {
		c.buf = b[:0]
	}
	if h != r.Hash {
		return journal.Hash{}, fail("hash mismatch: the store returned %s, the entry's canonical bytes hash to %s", r.Hash, h)
	}
	if r.Seq == c.head.Seq && h != c.head.Hash {
		return journal.Hash{}, fail("the stream head records hash %s for this seq, the entry hashes to %s", c.head.Hash, h)
	}
	return h, nil
}
