package replay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/journal/badgerstore"
)

// --- helpers ---------------------------------------------------------------

func openJournal(t *testing.T) *badgerstore.Store {
	t.Helper()
	s, err := badgerstore.Open(badgerstore.DefaultConfig(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func appendTo(t testing.TB, s journal.Store, stream string, es ...journal.Entry) (first, last uint64) {
	t.Helper()
	res, err := s.Append(context.Background(), stream, es)
	if err != nil {
		t.Error(err) // Error, not Fatal: also called from goroutines
		return 0, 0
	}
	return res[0].Seq, res[len(res)-1].Seq
}

func chg(tx, table string, op journal.Op, i int) journal.Entry {
	return journal.Entry{Kind: journal.KindChange, TxID: tx, Table: table, Op: op,
		Key: fmt.Appendf(nil, "%d", i), After: fmt.Appendf(nil, `{"id":%d}`, i)}
}

func begin(tx string) journal.Entry { return journal.Entry{Kind: journal.KindTxBegin, TxID: tx} }

func commit(tx string, n int) journal.Entry {
	return journal.Entry{Kind: journal.KindTxCommit, TxID: tx, Metadata: map[string]string{"changes": fmt.Sprint(n)}}
}

func heartbeat() journal.Entry { return journal.Entry{Kind: journal.KindHeartbeat} }

// changes returns n changes of tx on table.
func changes(tx, table string, op journal.Op, from, n int) []journal.Entry {
	var es []journal.Entry
	for i := from; i < from+n; i++ {
		es = append(es, chg(tx, table, op, i))
	}
	return es
}

// txn returns a whole transaction: begin, n changes, commit.
func txn(tx, table string, op journal.Op, n int) []journal.Entry {
	es := []journal.Entry{begin(tx)}
	es = append(es, changes(tx, table, op, 0, n)...)
	return append(es, commit(tx, n))
}

func newCursor(t *testing.T, s journal.Store, stream string, opts CursorOptions) *Cursor {
	t.Helper()
	c, err := NewCursor(s, stream, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// drain calls Next until io.EOF and returns the seqs delivered; it checks
// that every batch is in order and at most pageSize long.
func drain(t *testing.T, c *Cursor, pageSize int) []uint64 {
	t.Helper()
	var seqs []uint64
	for {
		recs, err := c.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return seqs
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 || len(recs) > pageSize {
			t.Fatalf("batch of %d records (page size %d)", len(recs), pageSize)
		}
		for _, r := range recs {
			if len(seqs) > 0 && r.Seq <= seqs[len(seqs)-1] {
				t.Fatalf("seq %d delivered after %d", r.Seq, seqs[len(seqs)-1])
			}
			seqs = append(seqs, r.Seq)
		}
		if p := c.Position(); p < seqs[len(seqs)-1] {
			t.Fatalf("position %d behind the last delivered seq %d", p, seqs[len(seqs)-1])
		}
	}
}

func seqRange(from, to uint64) []uint64 {
	var out []uint64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

func equalSeqs(t *testing.T, what string, got, want []uint64) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: delivered %v, want %v", what, got, want)
	}
}

// hookStore wraps a Store to watch and tamper with reads.
type hookStore struct {
	journal.Store
	mu       sync.Mutex
	reads    int
	maxLimit int
	tamper   func(r *journal.Record)
	mangle   func([]journal.Record) []journal.Record
}

func (h *hookStore) Read(ctx context.Context, stream string, from uint64, limit int) ([]journal.Record, error) {
	recs, err := h.Store.Read(ctx, stream, from, limit)
	h.mu.Lock()
	h.reads++
	h.maxLimit = max(h.maxLimit, limit)
	tamper, mangle := h.tamper, h.mangle
	h.mu.Unlock()
	if mangle != nil {
		recs = mangle(recs)
	}
	if tamper != nil {
		for i := range recs {
			tamper(&recs[i])
		}
	}
	return recs, err
}

func (h *hookStore) stats() (reads, maxLimit int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.reads, h.maxLimit
}

// --- paging, filters, positions ----------------------------------------------

func TestCursorPagesInOrder(t *testing.T) {
	s := openJournal(t)
	var es []journal.Entry
	for i := range 100 {
		es = append(es, txn(fmt.Sprint(i), "shop.orders", journal.OpInsert, i%7)...)
		if i%10 == 0 {
			es = append(es, heartbeat())
		}
	}
	_, head := appendTo(t, s, "orders", es...)

	for _, ps := range []int{1, 7, 64, 10000} {
		c := newCursor(t, s, "orders", CursorOptions{From: 1, PageSize: ps})
		equalSeqs(t, fmt.Sprintf("page size %d", ps), drain(t, c, ps), seqRange(1, head))
		if c.Position() != head {
			t.Fatalf("position %d, want head %d", c.Position(), head)
		}
		// io.EOF again at the head; the cursor picks up what is appended next.
		if _, err := c.Next(context.Background()); !errors.Is(err, io.EOF) {
			t.Fatalf("Next at head = %v, want io.EOF", err)
		}
	}

	c := newCursor(t, s, "orders", CursorOptions{From: 100, PageSize: 16})
	equalSeqs(t, "from 100", drain(t, c, 16), seqRange(100, head))
	first, last := appendTo(t, s, "orders", heartbeat(), heartbeat())
	equalSeqs(t, "after EOF", drain(t, c, 16), seqRange(first, last))

	c = newCursor(t, s, "orders", CursorOptions{From: last + 1})
	if c.Position() != last {
		t.Fatalf("position before the first record = %d, want %d", c.Position(), last)
	}
	equalSeqs(t, "from head+1", drain(t, c, DefaultPageSize), nil)
}

func TestCursorFilters(t *testing.T) {
	s := openJournal(t)
	tables := []string{"shop.orders", "shop.items", "shop.users"}
	ops := []journal.Op{journal.OpInsert, journal.OpUpdate, journal.OpDelete}
	var es []journal.Entry
	for i := range 300 {
		tx := fmt.Sprint(i)
		es = append(es, begin(tx))
		for j := range i % 5 {
			es = append(es, chg(tx, tables[(i+j)%3], ops[(i/3+j)%3], j))
		}
		es = append(es, commit(tx, i%5))
		switch i % 37 {
		case 0:
			es = append(es, journal.Entry{Kind: journal.KindGap, Payload: []byte("lost")})
		case 1:
			es = append(es, journal.Entry{Kind: journal.KindSnapshotRead, Table: "shop.orders", Key: []byte("k"), After: []byte("{}")})
		}
	}
	_, head := appendTo(t, s, "shop", es...)
	all, err := s.Read(context.Background(), "shop", 1, int(head))
	if err != nil {
		t.Fatal(err)
	}

	for _, f := range []Filter{
		{},
		{Tables: []string{"shop.orders"}},
		{Tables: []string{"shop.items", "shop.users"}},
		{Ops: []journal.Op{journal.OpDelete}},
		{Kinds: []journal.Kind{journal.KindGap, journal.KindSnapshotRead}},
		{Tables: []string{"shop.orders"}, Ops: []journal.Op{journal.OpUpdate}},
		{Tables: []string{"shop.orders"}, Kinds: []journal.Kind{journal.KindChange, journal.KindTxBegin, journal.KindTxCommit}},
		{Tables: []string{"shop.users"}, Ops: []journal.Op{journal.OpInsert}, Kinds: []journal.Kind{journal.KindChange, journal.KindGap}},
	} {
		var want []uint64
		for i := range all {
			if f.Match(&all[i]) {
				want = append(want, all[i].Seq)
			}
		}
		if len(want) == 0 {
			t.Fatalf("filter %s matches nothing: a useless case", f)
		}
		for _, txc := range []bool{false, true} {
			c := newCursor(t, s, "shop", CursorOptions{From: 1, PageSize: 13, Filter: f, TxComplete: txc})
			got := drain(t, c, 13)
			equalSeqs(t, fmt.Sprintf("filter %s, tx complete %v", f, txc), got, want)
			if c.Position() != head {
				t.Fatalf("filter %s: position %d, want %d", f, c.Position(), head)
			}
		}
	}
}

func TestCursorPositionWhenAllFiltered(t *testing.T) {
	s := openJournal(t)
	var es []journal.Entry
	for i := range 50 {
		es = append(es, txn(fmt.Sprint(i), "shop.orders", journal.OpInsert, 10)...)
	}
	_, head := appendTo(t, s, "orders", es...)
	nothing := Filter{Tables: []string{"shop.nothing"}}

	c := newCursor(t, s, "orders", CursorOptions{From: 1, PageSize: 32, Filter: nothing})
	if recs, err := c.Next(context.Background()); !errors.Is(err, io.EOF) || recs != nil {
		t.Fatalf("Next = %d records, %v; want io.EOF", len(recs), err)
	}
	if c.Position() != head {
		t.Fatalf("position %d, want %d", c.Position(), head)
	}

	// With Follow, Next blocks at the head; Position, read concurrently,
	// reaches the head so the consumer can checkpoint while nothing matches.
	c = newCursor(t, s, "orders", CursorOptions{From: 1, PageSize: 32, Filter: nothing, Follow: true, TxComplete: true})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Next(ctx)
		done <- err
	}()
	waitFor(t, func() bool { return c.Position() == head })
	_, last := appendTo(t, s, "orders", txn("x", "shop.orders", journal.OpDelete, 3)...)
	waitFor(t, func() bool { return c.Position() == last })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Next after cancel = %v, want context.Canceled", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestCursorArguments(t *testing.T) {
	s := openJournal(t)
	appendTo(t, s, "orders", heartbeat(), heartbeat(), heartbeat())

	check := func(opts CursorOptions, stream string, target error, mention ...string) {
		t.Helper()
		_, err := NewCursor(s, stream, opts)
		if !errors.Is(err, target) {
			t.Fatalf("NewCursor(%q, %+v) = %v, want %v", stream, opts, err, target)
		}
		for _, m := range mention {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("error %q does not mention %q", err, m)
			}
		}
	}
	check(CursorOptions{}, "orders", ErrInvalidArgument, "seq 0")
	check(CursorOptions{From: 5}, "orders", ErrBeyondHead, "seq 5", "ends at seq 3", "start at 4")
	check(CursorOptions{From: 5, Follow: true}, "orders", ErrBeyondHead)
	check(CursorOptions{From: 1}, "nope", journal.ErrUnknownStream, "nope")
	check(CursorOptions{From: 2, Follow: true}, "nope", journal.ErrUnknownStream, "seq 1")
	check(CursorOptions{From: 1}, "bad/name", ErrInvalidArgument)
	check(CursorOptions{From: 1}, "bad/name", journal.ErrBadStreamName)
	check(CursorOptions{From: 1, PageSize: -1}, "orders", ErrInvalidArgument, "page size")
	check(CursorOptions{From: 1, PageSize: MaxPageSize + 1}, "orders", ErrInvalidArgument, "page size")
	check(CursorOptions{From: 1, Filter: Filter{Ops: []journal.Op{42}}}, "orders", ErrInvalidArgument, "op")
	if _, err := NewCursor(nil, "orders", CursorOptions{From: 1}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("nil store: %v", err)
	}
	if _, err := NewCursor(s, "orders", CursorOptions{From: 4}); err != nil {
		t.Fatalf("from head+1: %v", err)
	}
}

// --- Follow -------------------------------------------------------------------

func TestCursorFollowLive(t *testing.T) {
	for _, txc := range []bool{false, true} {
		t.Run(fmt.Sprintf("TxComplete=%v", txc), func(t *testing.T) { testFollowLive(t, txc) })
	}
}

func testFollowLive(t *testing.T, txComplete bool) {
	s := openJournal(t)
	_, head := appendTo(t, s, "live", txn("0", "t", journal.OpInsert, 8)...)
	c := newCursor(t, s, "live", CursorOptions{From: 1, PageSize: 16, Follow: true, TxComplete: txComplete, Verify: true})

	const batches = 30
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 1; i <= batches; i++ {
			tx := fmt.Sprint(i)
			es := txn(tx, "t", journal.OpUpdate, i%4)
			// Split the transaction over two appends so the cursor sees it open.
			appendTo(t, s, "live", es[:len(es)/2]...)
			time.Sleep(time.Millisecond)
			appendTo(t, s, "live", es[len(es)/2:]...)
		}
	})
	want := head
	for i := 1; i <= batches; i++ {
		want += uint64(i%4) + 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var got []uint64
	for len(got) == 0 || got[len(got)-1] < want {
		recs, err := c.Next(ctx)
		if err != nil {
			t.Fatalf("after %d records: %v", len(got), err)
		}
		for _, r := range recs {
			got = append(got, r.Seq)
		}
	}
	wg.Wait()
	equalSeqs(t, "live", got, seqRange(1, want))

	// Cancelling the context ends a Next blocked at the head.
	ctx2, cancel2 := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel2)
	if _, err := c.Next(ctx2); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next after cancel = %v, want context.Canceled", err)
	}
	ctx3, cancel3 := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel3()
	if _, err := c.Next(ctx3); err != context.DeadlineExceeded {
		t.Fatalf("Next after deadline = %v, want ctx.Err()", err)
	}
	if c.Position() != want {
		t.Fatalf("position %d, want %d", c.Position(), want)
	}
}

func TestCursorFollowStreamNotYetCreated(t *testing.T) {
	s := openJournal(t)
	c := newCursor(t, s, "later", CursorOptions{From: 1, Follow: true, Verify: true, TxComplete: true})
	time.AfterFunc(30*time.Millisecond, func() { appendTo(t, s, "later", heartbeat()) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	recs, err := c.Next(ctx)
	if err != nil || len(recs) != 1 || recs[0].Seq != 1 {
		t.Fatalf("Next = %v, %v; want seq 1", recs, err)
	}
}

// --- TxComplete ---------------------------------------------------------------

func TestTxCompleteOpenTail(t *testing.T) {
	s := openJournal(t)
	appendTo(t, s, "pg", heartbeat())                                  // 1
	appendTo(t, s, "pg", txn("a", "t", journal.OpInsert, 3)...)        // 2..6
	appendTo(t, s, "pg", begin("b"))                                   // 7
	appendTo(t, s, "pg", changes("b", "t", journal.OpUpdate, 0, 2)...) // 8, 9
	// The capture stopped here, mid-transaction.

	plain := newCursor(t, s, "pg", CursorOptions{From: 1, PageSize: 4})
	equalSeqs(t, "without TxComplete", drain(t, plain, 4), seqRange(1, 9))

	for _, ps := range []int{1, 4, 100} {
		c := newCursor(t, s, "pg", CursorOptions{From: 1, PageSize: ps, TxComplete: true})
		equalSeqs(t, fmt.Sprintf("open tail, page %d", ps), drain(t, c, ps), seqRange(1, 6))
		if c.Position() != 6 {
			t.Fatalf("position %d, want 6 (before the open transaction)", c.Position())
		}
	}
	// Starting inside the open transaction delivers nothing yet.
	for _, from := range []uint64{7, 8, 9, 10} {
		c := newCursor(t, s, "pg", CursorOptions{From: from, PageSize: 4, TxComplete: true})
		equalSeqs(t, fmt.Sprintf("from %d inside the open tx", from), drain(t, c, 4), nil)
		if c.Position() != from-1 {
			t.Fatalf("position %d, want %d", c.Position(), from-1)
		}
	}

	c := newCursor(t, s, "pg", CursorOptions{From: 1, PageSize: 4, TxComplete: true})
	equalSeqs(t, "before the commit", drain(t, c, 4), seqRange(1, 6))
	mid := newCursor(t, s, "pg", CursorOptions{From: 9, PageSize: 4, TxComplete: true})
	equalSeqs(t, "mid, before the commit", drain(t, mid, 4), nil)

	// The capture restarts and finishes the transaction: it is released.
	appendTo(t, s, "pg", chg("b", "t", journal.OpUpdate, 2), commit("b", 3), heartbeat()) // 10, 11, 12
	equalSeqs(t, "after the commit", drain(t, c, 4), seqRange(7, 12))
	equalSeqs(t, "mid, after the commit", drain(t, mid, 4), seqRange(9, 12))

	// A Follow cursor waits at the open transaction and gets it once committed.
	appendTo(t, s, "pg", begin("c"), chg("c", "t", journal.OpDelete, 0)) // 13, 14
	f := newCursor(t, s, "pg", CursorOptions{From: 12, Follow: true, TxComplete: true})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if recs, err := f.Next(ctx); err != nil || len(recs) != 1 || recs[0].Seq != 12 {
		t.Fatalf("Next = %v, %v; want seq 12", recs, err)
	}
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	if _, err := f.Next(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next inside the open transaction = %v, want to wait", err)
	}
	time.AfterFunc(20*time.Millisecond, func() { appendTo(t, s, "pg", commit("c", 1)) }) // 15
	recs, err := f.Next(ctx)
	if err != nil || len(recs) != 3 || recs[0].Seq != 13 || recs[2].Seq != 15 {
		t.Fatalf("Next after the commit = %v, %v; want seqs 13..15", recs, err)
	}
}

// A transaction many pages long: scanned ahead page by page, never held,
// delivered in pages once its commit is durable.
func TestTxCompleteLargeTransaction(t *testing.T) {
	s := openJournal(t)
	hs := &hookStore{Store: s}
	const ps = 8
	appendTo(t, s, "big", heartbeat())                                       // 1
	appendTo(t, s, "big", begin("huge"))                                     // 2
	appendTo(t, s, "big", changes("huge", "t", journal.OpInsert, 0, 150)...) // 3..152

	c := newCursor(t, hs, "big", CursorOptions{From: 1, PageSize: ps, TxComplete: true, Follow: true, Verify: true})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if recs, err := c.Next(ctx); err != nil || len(recs) != 1 || recs[0].Seq != 1 {
		t.Fatalf("Next = %v, %v; want seq 1", recs, err)
	}

	type result struct {
		recs []journal.Record
		err  error
	}
	res := make(chan result, 1)
	go func() {
		recs, err := c.Next(ctx)
		res <- result{recs, err}
	}()
	// More of the transaction arrives: still nothing is delivered.
	appendTo(t, s, "big", changes("huge", "t", journal.OpInsert, 150, 150)...) // 153..302
	waitFor(t, func() bool { r, _ := hs.stats(); return r > 300/ps })
	select {
	case r := <-res:
		t.Fatalf("Next returned %d records, %v before the commit", len(r.recs), r.err)
	case <-time.After(50 * time.Millisecond):
	}
	if c.Position() != 1 {
		t.Fatalf("position %d inside an uncommitted transaction", c.Position())
	}
	_, commitSeq := appendTo(t, s, "big", commit("huge", 300), heartbeat()) // 303, 304
	commitSeq--

	r := <-res
	if r.err != nil {
		t.Fatal(r.err)
	}
	var got []uint64
	add := func(recs []journal.Record) {
		if len(recs) == 0 || len(recs) > ps {
			t.Fatalf("batch of %d records, page size %d", len(recs), ps)
		}
		for _, rec := range recs {
			got = append(got, rec.Seq)
		}
	}
	add(r.recs)
	for got[len(got)-1] < commitSeq+1 {
		recs, err := c.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		add(recs)
	}
	equalSeqs(t, "large transaction", got, seqRange(2, commitSeq+1))
	if _, maxLimit := hs.stats(); maxLimit > ps {
		t.Fatalf("a read asked for %d records, more than the page size %d", maxLimit, ps)
	}
}

// Structural check behind "memory is not proportional to the transaction":
// the only slice the cursor keeps is the bounded encode scratch buffer (the
// filter's slices are the caller's), so nothing can grow with a transaction.
func TestCursorRetainsNoRecords(t *testing.T) {
	typ := reflect.TypeFor[Cursor]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		switch f.Type.Kind() {
		case reflect.Slice, reflect.Map, reflect.Chan:
			if f.Name != "buf" {
				t.Errorf("Cursor.%s is a %s: the cursor must not retain records between calls", f.Name, f.Type)
			}
		}
	}
	if maxScratch > 1<<20 {
		t.Errorf("scratch bound %d", maxScratch)
	}
}

// --- Verify -------------------------------------------------------------------

func verifyJournal(t *testing.T) (*hookStore, uint64) {
	s := openJournal(t)
	var es []journal.Entry
	for i := range 20 {
		es = append(es, txn(fmt.Sprint(i), "t", journal.OpInsert, 3)...)
	}
	_, head := appendTo(t, s, "v", es...) // 100 entries
	return &hookStore{Store: s}, head
}

func TestVerifyClean(t *testing.T) {
	hs, head := verifyJournal(t)
	for _, from := range []uint64{1, 2, 37, head, head + 1} {
		for _, txc := range []bool{false, true} {
			c := newCursor(t, hs, "v", CursorOptions{From: from, PageSize: 9, Verify: true, TxComplete: txc})
			var want []uint64 // from inside a committed transaction, TxComplete delivers its rest
			if from <= head {
				want = seqRange(from, head)
			}
			equalSeqs(t, fmt.Sprintf("verify from %d", from), drain(t, c, 9), want)
		}
	}
}

func flip(r *journal.Record) { r.After = bytes.Clone(r.After); r.After[0] ^= 0x20 }

func rehash(r *journal.Record) {
	b, err := journal.EntryBytes(&r.Entry)
	if err != nil {
		panic(err)
	}
	r.Hash = journal.HashEntryBytes(b)
}

func TestVerifyDetectsTampering(t *testing.T) {
	hs, head := verifyJournal(t)
	hs.tamper = func(r *journal.Record) {}
	for _, tc := range []struct {
		name     string
		from     uint64
		tamper   func(r *journal.Record)
		failSeq  uint64
		mentions []string
	}{
		// The store returns changed bytes under the original hash.
		{"content", 1, func(r *journal.Record) {
			if r.Seq == 38 {
				flip(r)
			}
		}, 38, []string{"stream v: seq 38", "hash mismatch"}},
		// The store returns changed bytes with a matching hash: the next link breaks.
		{"content and hash", 1, func(r *journal.Record) {
			if r.Seq == 38 {
				flip(r)
				rehash(r)
			}
		}, 39, []string{"seq 39", "chain broken", "seq 38 has hash"}},
		// A rewritten head has no successor; the head hash catches it.
		{"head", 90, func(r *journal.Record) {
			if r.Seq == head {
				r.Metadata = map[string]string{"changes": "999"}
				rehash(r)
			}
		}, head, []string{fmt.Sprintf("seq %d", head), "head records hash"}},
		// The record before From anchors the chain.
		{"record before from", 50, func(r *journal.Record) {
			if r.Seq == 49 {
				flip(r)
				rehash(r)
			}
		}, 50, []string{"seq 50", "chain broken"}},
		{"record before from, hash", 50, func(r *journal.Record) {
			if r.Seq == 49 {
				flip(r)
			}
		}, 49, []string{"seq 49", "hash mismatch"}},
		{"prev hash", 1, func(r *journal.Record) {
			if r.Seq == 1 {
				r.PrevHash[0] = 1
				rehash(r)
			}
		}, 1, []string{"seq 1", "chain broken"}},
	} {
		hs.mu.Lock()
		hs.tamper = tc.tamper
		hs.mu.Unlock()
		c := newCursor(t, hs, "v", CursorOptions{From: tc.from, PageSize: 10, Verify: true})
		var last uint64
		var err error
		for {
			var recs []journal.Record
			recs, err = c.Next(context.Background())
			if err != nil {
				break
			}
			last = recs[len(recs)-1].Seq
		}
		var ve *journal.VerifyError
		if !errors.Is(err, journal.ErrVerifyMismatch) || !errors.As(err, &ve) || ve.Seq != tc.failSeq || ve.Stream != "v" {
			t.Fatalf("%s: error %v, want a verify mismatch at seq %d", tc.name, err, tc.failSeq)
		}
		for _, m := range tc.mentions {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("%s: error %q does not mention %q", tc.name, err, m)
			}
		}
		// Nothing at or past the bad record was delivered, and the cursor
		// keeps refusing.
		if last >= tc.failSeq || tc.failSeq >= tc.from && c.Position() >= tc.failSeq {
			t.Fatalf("%s: delivered up to %d, position %d, past the bad seq %d", tc.name, last, c.Position(), tc.failSeq)
		}
		if _, err2 := c.Next(context.Background()); !errors.Is(err2, journal.ErrVerifyMismatch) {
			t.Fatalf("%s: Next after a mismatch = %v", tc.name, err2)
		}

		// Without Verify the same store is read without complaint.
		c = newCursor(t, hs, "v", CursorOptions{From: tc.from, PageSize: 10})
		drain(t, c, 10)
	}
}

// A store that skips or repeats records, or fails, is reported, not papered over.
func TestCursorStoreFaults(t *testing.T) {
	s := openJournal(t)
	_, head := appendTo(t, s, "f", txn("a", "t", journal.OpInsert, 20)...)
	hs := &hookStore{Store: s}
	for _, txc := range []bool{false, true} {
		hs.mangle = func(recs []journal.Record) []journal.Record {
			if len(recs) > 3 {
				return append(recs[:2], recs[3:]...) // a record goes missing
			}
			return recs
		}
		c := newCursor(t, hs, "f", CursorOptions{From: 1, PageSize: 8, TxComplete: txc})
		if _, err := c.Next(context.Background()); !errors.Is(err, journal.ErrCorrupt) || !strings.Contains(err.Error(), "expected seq 3") {
			t.Fatalf("missing record: %v", err)
		}
		hs.mangle = func([]journal.Record) []journal.Record { return nil } // the journal lost its tail
		c = newCursor(t, hs, "f", CursorOptions{From: 1, PageSize: 8, TxComplete: txc})
		if _, err := c.Next(context.Background()); !errors.Is(err, journal.ErrCorrupt) || !strings.Contains(err.Error(), fmt.Sprintf("head is at seq %d", head)) {
			t.Fatalf("lost tail: %v", err)
		}
	}
	hs.mangle = nil
	c := newCursor(t, hs, "f", CursorOptions{From: 1, PageSize: 8, Follow: true})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Next(context.Background()); !errors.Is(err, journal.ErrClosed) || !strings.Contains(err.Error(), "stream f") {
		t.Fatalf("closed store: %v", err)
	}
}
