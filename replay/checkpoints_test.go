package replay

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/replay/state"
)

func hashAt(t *testing.T, s journal.Store, stream string, seq uint64) journal.Hash {
	t.Helper()
	recs, err := s.Read(context.Background(), stream, seq, 1)
	if err != nil || len(recs) != 1 {
		t.Fatalf("read %s seq %d: %v, %d records", stream, seq, err, len(recs))
	}
	return recs[0].Hash
}

func TestCheckpoints(t *testing.T) {
	ctx := context.Background()
	s := openJournal(t)
	var es []journal.Entry
	for i := range 4 {
		es = append(es, txn(fmt.Sprint(i), "t", journal.OpInsert, 3)...)
	}
	_, head := appendTo(t, s, "orders", es...) // 20
	appendTo(t, s, "orders.eu", heartbeat(), heartbeat())

	dir := t.TempDir()
	st, err := state.Open(dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { st.Close() }()
	cps := NewCheckpoints(s, st)
	clock := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	cps.now = func() time.Time { clock = clock.Add(time.Second); return clock }

	if _, err := cps.Get(ctx, "orders", "billing"); !errors.Is(err, ErrNoSubscription) {
		t.Fatalf("Get before any commit = %v, want ErrNoSubscription", err)
	}
	cp, err := cps.Commit(ctx, "orders", "billing", 5, hashAt(t, s, "orders", 5))
	if err != nil {
		t.Fatal(err)
	}
	if cp.Stream != "orders" || cp.Name != "billing" || cp.Seq != 5 || cp.Hash != hashAt(t, s, "orders", 5) || !cp.UpdatedAt.Equal(clock) || cp.Rewinds != 0 || cp.LastRewind != nil {
		t.Fatalf("commit = %+v", cp)
	}
	got, err := cps.Get(ctx, "orders", "billing")
	if err != nil || !sameCheckpoint(got, cp) {
		t.Fatalf("Get = %+v, %v; want %+v", got, err, cp)
	}
	// Forward, then at the head (checked against the head hash).
	if _, err := cps.Commit(ctx, "orders", "billing", 12, hashAt(t, s, "orders", 12)); err != nil {
		t.Fatal(err)
	}
	if _, err := cps.Commit(ctx, "orders", "audit", head, hashAt(t, s, "orders", head)); err != nil {
		t.Fatal(err)
	}
	if _, err := cps.Commit(ctx, "orders", "a.first_1", 1, hashAt(t, s, "orders", 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := cps.Commit(ctx, "orders.eu", "billing", 2, hashAt(t, s, "orders.eu", 2)); err != nil {
		t.Fatal(err)
	}

	// A rewind is allowed and recorded; later commits keep the record.
	rw, err := cps.Commit(ctx, "orders", "billing", 3, hashAt(t, s, "orders", 3))
	if err != nil {
		t.Fatal(err)
	}
	if rw.Seq != 3 || rw.Rewinds != 1 || rw.LastRewind == nil || rw.LastRewind.From != 12 || rw.LastRewind.To != 3 || !rw.LastRewind.At.Equal(rw.UpdatedAt) {
		t.Fatalf("rewind = %+v (last %+v)", rw, rw.LastRewind)
	}
	fw, err := cps.Commit(ctx, "orders", "billing", 7, hashAt(t, s, "orders", 7))
	if err != nil {
		t.Fatal(err)
	}
	if fw.Rewinds != 1 || fw.LastRewind == nil || fw.LastRewind.From != 12 || fw.LastRewind.At.Equal(fw.UpdatedAt) {
		t.Fatalf("commit after the rewind = %+v (last %+v)", fw, fw.LastRewind)
	}
	// Committing the same position again is fine (not a rewind).
	if again, err := cps.Commit(ctx, "orders", "billing", 7, hashAt(t, s, "orders", 7)); err != nil || again.Rewinds != 1 {
		t.Fatalf("same position again = %+v, %v", again, err)
	}

	list := func(stream string) string {
		t.Helper()
		l, err := cps.List(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, c := range l {
			if c.Stream != stream || c.Hash != hashAt(t, s, stream, c.Seq) {
				t.Fatalf("listed %+v", c)
			}
			parts = append(parts, fmt.Sprintf("%s=%d", c.Name, c.Seq))
		}
		return strings.Join(parts, " ")
	}
	if got, want := list("orders"), "a.first_1=1 audit=20 billing=7"; got != want {
		t.Fatalf("List(orders) = %s, want %s", got, want)
	}
	if got, want := list("orders.eu"), "billing=2"; got != want {
		t.Fatalf("List(orders.eu) = %s, want %s", got, want)
	}

	// Refusals.
	refuse := func(stream, name string, seq uint64, h journal.Hash, target error, mention ...string) {
		t.Helper()
		_, err := cps.Commit(ctx, stream, name, seq, h)
		if !errors.Is(err, target) {
			t.Fatalf("Commit(%s, %s, %d) = %v, want %v", stream, name, seq, err, target)
		}
		for _, m := range mention {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("error %q does not mention %q", err, m)
			}
		}
	}
	h5, h6 := hashAt(t, s, "orders", 5), hashAt(t, s, "orders", 6)
	refuse("orders", "billing", 5, h6, ErrHashMismatch, "seq 5", h5.String(), h6.String(), "forked")
	refuse("orders", "billing", head, h6, ErrHashMismatch, fmt.Sprintf("seq %d", head))
	refuse("orders", "billing", 5, hashAt(t, s, "orders.eu", 1), ErrHashMismatch)
	refuse("orders", "billing", head+1, h6, ErrBeyondHead, fmt.Sprintf("ends at seq %d", head))
	refuse("orders", "billing", 0, h6, ErrInvalidArgument, "seq 0")
	for _, bad := range []string{"", "-x", ".x", "a/b", "a b", strings.Repeat("n", 129)} {
		refuse("orders", bad, 5, h5, ErrInvalidArgument, "subscription name")
	}
	refuse("bad/stream", "billing", 5, h5, journal.ErrBadStreamName)
	refuse("missing", "billing", 1, h5, journal.ErrUnknownStream)
	if _, err := cps.Get(ctx, "orders", "a/b"); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Get with a bad name = %v", err)
	}
	if _, err := cps.List(ctx, "bad/stream"); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("List with a bad stream = %v", err)
	}
	if got, err := cps.Get(ctx, "orders", "billing"); err != nil || got.Seq != 7 {
		t.Fatalf("a refused commit changed the checkpoint: %+v, %v", got, err)
	}

	// Delete.
	if err := cps.Delete(ctx, "orders", "a.first_1"); err != nil {
		t.Fatal(err)
	}
	if err := cps.Delete(ctx, "orders", "a.first_1"); !errors.Is(err, ErrNoSubscription) {
		t.Fatalf("second Delete = %v", err)
	}

	// The state store keeps everything across a reopen.
	before, err := cps.List(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = state.Open(dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cps = NewCheckpoints(s, st)
	after, err := cps.List(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) || len(after) != 2 {
		t.Fatalf("after reopen: %d checkpoints, before %d", len(after), len(before))
	}
	for i := range after {
		if !sameCheckpoint(after[i], before[i]) {
			t.Fatalf("after reopen %+v, before %+v", after[i], before[i])
		}
	}

	// Resuming a verifying cursor after the committed checkpoint.
	cp, err = cps.Get(ctx, "orders", "billing")
	if err != nil {
		t.Fatal(err)
	}
	c := newCursor(t, s, "orders", CursorOptions{From: cp.Seq + 1, Verify: true, TxComplete: true})
	equalSeqs(t, "resume", drain(t, c, DefaultPageSize), seqRange(cp.Seq+1, head))
}

func sameCheckpoint(a, b Checkpoint) bool {
	if a.Stream != b.Stream || a.Name != b.Name || a.Seq != b.Seq || a.Hash != b.Hash || !a.UpdatedAt.Equal(b.UpdatedAt) || a.Rewinds != b.Rewinds {
		return false
	}
	if (a.LastRewind == nil) != (b.LastRewind == nil) {
		return false
	}
	return a.LastRewind == nil || a.LastRewind.From == b.LastRewind.From && a.LastRewind.To == b.LastRewind.To && a.LastRewind.At.Equal(b.LastRewind.At)
}
