package queue

import (
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnlog/cairn/journal"
)

var uuidD = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestLeaseDeliversOnlyWorkEntriesInOrder(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, clk.opts(Options{}))
	appendAll(t, e.store, "s",
		other(journal.KindTxBegin), // 1
		journal.Entry{Kind: journal.KindChange, Table: "t", Op: journal.OpInsert, Key: []byte("1")}, // 2
		other(journal.KindTxCommit),  // 3
		other(journal.KindHeartbeat), // 4
		journal.Entry{Kind: journal.KindSnapshotRead, Table: "t", Op: journal.OpInsert, Key: []byte("2")}, // 5
		other(journal.KindSchema),     // 6
		appEvent(""),                  // 7
		other(journal.KindCheckpoint), // 8
		other(journal.KindGap),        // 9
	)
	ls := e.lease("g", 100, 0)
	wantSeqs(t, ls, 2, 5, 7)
	now := clk.Now()
	for _, l := range ls {
		if l.Token.Attempt != 1 || !uuidD.MatchString(l.Token.LeaseID) || !l.Deadline.Equal(now.Add(DefaultLeaseTime)) {
			t.Fatalf("leased %+v: want attempt 1, a D-format v4 UUID and deadline now+30s", l.Token)
		}
		if l.Record.Seq != l.Token.SequenceID || l.Record.Hash.IsZero() {
			t.Fatalf("record seq %d for token %v", l.Record.Seq, l.Token)
		}
	}
	if ls[0].Token.LeaseID == ls[1].Token.LeaseID {
		t.Fatal("two leases share a lease id")
	}
	if string(ls[2].Record.Payload) != "p-" {
		t.Fatalf("payload %q", ls[2].Record.Payload)
	}
	st := e.status("g")
	wantStatus(t, st, 0, 3, 0, 0)
	if st.AckFloor != 2 || st.NextSeq != 10 || st.HeadSeq != 9 {
		t.Fatalf("status %+v: want floor 2, next 10, head 9", st)
	}
	if r := e.ack("g", tokens(ls)...); r.Done != 3 || len(r.Rejected) != 0 {
		t.Fatalf("ack = %+v", r)
	}
	st = e.status("g")
	wantStatus(t, st, 0, 0, 3, 0)
	if st.AckFloor != 10 {
		t.Fatalf("floor %d after acking everything, want 10", st.AckFloor)
	}
	if ls := e.lease("g", 100, 0); len(ls) != 0 {
		t.Fatalf("leased %v after everything was acked", seqs(ls))
	}
	names, err := e.m.Groups(bg(), "s")
	if err != nil || len(names) != 1 || names[0] != "g" {
		t.Fatalf("groups = %v, %v", names, err)
	}
	// A second group reads the stream independently from seq 1.
	wantSeqs(t, e.lease("h", 2, 0), 2, 5)
	if names, _ := e.m.Groups(bg(), "s"); len(names) != 2 || names[1] != "h" {
		t.Fatalf("groups = %v", names)
	}
}

func TestPerKeyOrder(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, clk.opts(Options{}))
	appendAll(t, e.store, "s",
		appEvent("a"), // 1
		appEvent("a"), // 2
		appEvent("b"), // 3
		appEvent(""),  // 4
		appEvent(""),  // 5
		appEvent("a"), // 6
		journal.Entry{Kind: journal.KindAppEvent, Table: "other", Key: []byte("a")}, // 7: another table, another key
	)
	first := e.lease("g", 100, 0)
	wantSeqs(t, first, 1, 3, 4, 5, 7)
	e.ack("g", tokens(first[1:])...)
	if ls := e.lease("g", 100, 0); len(ls) != 0 {
		t.Fatalf("leased %v while key a is in flight", seqs(ls))
	}
	// A nack keeps the key blocked: seq 1 comes back before seq 2.
	if r, err := e.m.Nack(bg(), "s", "g", []Token{first[0].Token}, 0); err != nil || r.Done != 1 {
		t.Fatalf("nack = %+v, %v", r, err)
	}
	again := e.lease("g", 100, 0)
	wantSeqs(t, again, 1)
	if again[0].Token.Attempt != 2 {
		t.Fatalf("redelivery attempt %d, want 2", again[0].Token.Attempt)
	}
	// So does an expired lease.
	clk.Advance(DefaultLeaseTime)
	again = e.lease("g", 100, 0)
	wantSeqs(t, again, 1)
	e.ack("g", again[0].Token)
	next := e.lease("g", 100, 0)
	wantSeqs(t, next, 2)
	e.ack("g", next[0].Token)
	wantSeqs(t, e.lease("g", 100, 0), 6)
}

func TestLeaseExpiryRedeliversAndFencesTheOldToken(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, clk.opts(Options{}))
	appendAll(t, e.store, "s", appEvent("a"), appEvent("b"))
	ls := e.lease("g", 1, 10*time.Second)
	wantSeqs(t, ls, 1)
	old := ls[0].Token
	clk.Advance(10 * time.Second) // the deadline itself is already past
	st := e.status("g")
	wantStatus(t, st, 2, 0, 0, 0)

	ls = e.lease("g", 10, 0)
	wantSeqs(t, ls, 1, 2)
	if ls[0].Token.Attempt != 2 || ls[0].Token.LeaseID == old.LeaseID {
		t.Fatalf("redelivered token %v after %v: want attempt 2 and a new lease id", ls[0].Token, old)
	}
	for name, call := range map[string]func() (Result, error){
		"ack":    func() (Result, error) { return e.m.Ack(bg(), "s", "g", []Token{old}) },
		"nack":   func() (Result, error) { return e.m.Nack(bg(), "s", "g", []Token{old}, 0) },
		"extend": func() (Result, error) { return e.m.Extend(bg(), "s", "g", []Token{old}, 0) },
	} {
		r, err := call()
		if err != nil || r.Done != 0 || len(r.Rejected) != 1 || !errors.Is(r.Rejected[0].Err, ErrLeaseInactive) {
			t.Fatalf("%s with the expired token = %+v, %v; want one ErrLeaseInactive rejection", name, r, err)
		}
		if msg := r.Rejected[0].Err.Error(); !strings.Contains(msg, "now leased as attempt 2") || !strings.Contains(msg, "lease again") {
			t.Fatalf("%s rejection %q does not say what happened and what to do", name, msg)
		}
	}
	wantStatus(t, e.status("g"), 0, 2, 0, 0) // the stale token changed nothing

	// A lease id that matches no lease, and a token acked twice in one call.
	forged := ls[1].Token
	forged.LeaseID = "6f1c0b7e-3f43-4a55-9d5e-2a7d6c8b9e10"
	r := e.ack("g", ls[0].Token, ls[0].Token, forged)
	if r.Done != 1 || len(r.Rejected) != 2 || !errors.Is(r.Rejected[0].Err, ErrLeaseInactive) || !strings.Contains(r.Rejected[0].Err.Error(), "already acked") ||
		!errors.Is(r.Rejected[1].Err, ErrLeaseInactive) || !strings.Contains(r.Rejected[1].Err.Error(), "another lease id") {
		t.Fatalf("ack = %+v", r)
	}
	wantStatus(t, e.status("g"), 0, 1, 1, 0)
}

func TestExtendMovesTheDeadline(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, clk.opts(Options{MaxLease: time.Minute}))
	appendAll(t, e.store, "s", appEvent("a"))
	ls := e.lease("g", 1, 10*time.Second)
	clk.Advance(8 * time.Second)
	r, err := e.m.Extend(bg(), "s", "g", tokens(ls), 20*time.Second)
	if err != nil || r.Done != 1 {
		t.Fatalf("extend = %+v, %v", r, err)
	}
	clk.Advance(15 * time.Second) // past the first deadline, before the new one
	if got := e.lease("g", 1, 0); len(got) != 0 {
		t.Fatalf("leased %v under an extended lease", seqs(got))
	}
	wantStatus(t, e.status("g"), 0, 1, 0, 0)
	// Extend with 0 takes the default lease, which here exceeds nothing.
	if r, err := e.m.Extend(bg(), "s", "g", tokens(ls), 0); err != nil || r.Done != 1 {
		t.Fatalf("extend(0) = %+v, %v", r, err)
	}
	clk.Advance(DefaultLeaseTime - time.Nanosecond)
	if r := e.ack("g", tokens(ls)...); r.Done != 1 {
		t.Fatalf("ack within the extended lease = %+v", r)
	}
	// Extending past MaxLease is refused for the whole call.
	if _, err := e.m.Extend(bg(), "s", "g", tokens(ls), 2*time.Minute); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("extend beyond MaxLease: %v", err)
	}
	// An acked token cannot be extended.
	if r, err := e.m.Extend(bg(), "s", "g", tokens(ls), 0); err != nil || len(r.Rejected) != 1 || !errors.Is(r.Rejected[0].Err, ErrLeaseInactive) {
		t.Fatalf("extend after ack = %+v, %v", r, err)
	}
}

func TestNackDelay(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, clk.opts(Options{}))
	appendAll(t, e.store, "s", appEvent("a"), appEvent("b"))
	ls := e.lease("g", 2, 0)
	if r, err := e.m.Nack(bg(), "s", "g", []Token{ls[0].Token}, 5*time.Second); err != nil || r.Done != 1 {
		t.Fatalf("nack = %+v, %v", r, err)
	}
	st := e.status("g")
	wantStatus(t, st, 1, 1, 0, 0)
	if st.Delayed != 1 {
		t.Fatalf("delayed = %d, want 1", st.Delayed)
	}
	if got := e.lease("g", 10, 0); len(got) != 0 {
		t.Fatalf("leased %v right after a 5s nack", seqs(got))
	}
	clk.Advance(5*time.Second - time.Millisecond)
	if got := e.lease("g", 10, 0); len(got) != 0 {
		t.Fatalf("leased %v before the nack delay ended", seqs(got))
	}
	// The delay survives a restart.
	e.restart()
	if got := e.lease("g", 10, 0); len(got) != 0 {
		t.Fatalf("leased %v before the nack delay ended, after a restart", seqs(got))
	}
	clk.Advance(time.Millisecond)
	got := e.lease("g", 10, 0)
	wantSeqs(t, got, 1)
	if got[0].Token.Attempt != 2 {
		t.Fatalf("attempt %d after one nack, want 2", got[0].Token.Attempt)
	}
	if _, err := e.m.Nack(bg(), "s", "g", tokens(got), -time.Second); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("negative nack delay: %v", err)
	}
	if _, err := e.m.Nack(bg(), "s", "g", tokens(got), 2*time.Hour); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("nack delay beyond MaxLease: %v", err)
	}
}

func TestDeadLetters(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, clk.opts(Options{MaxAttempts: 3}))
	appendAll(t, e.store, "s", appEvent("a"), appEvent("a"), appEvent("b"), appEvent("c"))

	// Seq 1 is nacked three times; seq 3's lease expires three times.
	var last Token
	for attempt := uint32(1); attempt <= 3; attempt++ {
		ls := e.lease("g", 10, 0)
		if attempt == 1 {
			wantSeqs(t, ls, 1, 3, 4)
			e.ack("g", ls[2].Token)
		} else {
			wantSeqs(t, ls, 1, 3)
		}
		if ls[0].Token.Attempt != attempt || ls[1].Token.Attempt != attempt {
			t.Fatalf("attempts %d, %d, want %d", ls[0].Token.Attempt, ls[1].Token.Attempt, attempt)
		}
		if _, err := e.m.Nack(bg(), "s", "g", []Token{ls[0].Token}, 0); err != nil {
			t.Fatal(err)
		}
		last = ls[1].Token
		clk.Advance(DefaultLeaseTime)
	}
	// The dead letter of seq 1 lets seq 2 (same key) go.
	ls := e.lease("g", 10, 0)
	wantSeqs(t, ls, 2)
	st := e.status("g")
	wantStatus(t, st, 0, 1, 1, 2)

	e.restart() // dead letters and tallies are durable
	st = e.status("g")
	wantStatus(t, st, 0, 1, 1, 2)
	dl, err := e.m.DeadLetters(bg(), "s", "g", 0, 10)
	if err != nil || len(dl) != 2 {
		t.Fatalf("dead letters = %+v, %v", dl, err)
	}
	if dl[0].Record.Seq != 1 || dl[0].Attempts != 3 || dl[0].LastToken.Attempt != 3 || !strings.Contains(dl[0].Reason, "nacked on the last attempt") || !dl[0].At.Equal(clk.Now().Add(-DefaultLeaseTime)) {
		t.Fatalf("dead letter 1 = %+v", dl[0])
	}
	if dl[1].Record.Seq != 3 || dl[1].Attempts != 3 || dl[1].LastToken != last || !strings.Contains(dl[1].Reason, "lease expired") || string(dl[1].Record.Payload) != "p-b" {
		t.Fatalf("dead letter 3 = %+v (last token %v)", dl[1], last)
	}
	if dl, err := e.m.DeadLetters(bg(), "s", "g", 2, 10); err != nil || len(dl) != 1 || dl[0].Record.Seq != 3 {
		t.Fatalf("dead letters from 2 = %+v, %v", dl, err)
	}
	if dl, err := e.m.DeadLetters(bg(), "s", "g", 0, 1); err != nil || len(dl) != 1 || dl[0].Record.Seq != 1 {
		t.Fatalf("dead letters limit 1 = %+v, %v", dl, err)
	}
	// A dead-lettered entry's token is inactive.
	r, err := e.m.Ack(bg(), "s", "g", []Token{last})
	if err != nil || len(r.Rejected) != 1 || !strings.Contains(r.Rejected[0].Err.Error(), "dead-lettered") {
		t.Fatalf("ack of a dead letter = %+v, %v", r, err)
	}
}

func TestRestartKeepsLeasesAndProgress(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, clk.opts(Options{}))
	var es []journal.Entry
	for i := 0; i < 20; i++ {
		es = append(es, appEvent(string(rune('a'+i%5))))
	}
	appendAll(t, e.store, "s", es...)
	ls := e.lease("g", 10, 0) // seqs 1-5 (keys a-e), seqs 6.. wait behind them
	wantSeqs(t, ls, 1, 2, 3, 4, 5)
	e.ack("g", ls[1].Token, ls[3].Token)   // 2, 4 acked (above the floor)
	short := e.lease("g", 10, time.Second) // 7 and 9 (keys b, d), short lease
	wantSeqs(t, short, 7, 9)
	before := e.status("g")

	e.restart()
	if got := e.status("g"); got != before {
		t.Fatalf("status after restart %+v, want %+v", got, before)
	}
	// A lease granted before the restart can still ack.
	if r := e.ack("g", ls[0].Token); r.Done != 1 {
		t.Fatalf("ack with a pre-restart token = %+v", r)
	}
	clk.Advance(time.Second) // the short leases expire: redelivered with attempt 2
	got := e.lease("g", 10, 0)
	wantSeqs(t, got, 6, 7, 9)
	if got[1].Token.Attempt != 2 || got[2].Token.Attempt != 2 || got[0].Token.Attempt != 1 {
		t.Fatalf("attempts after expiry across a restart: %v", tokens(got))
	}
	e.ack("g", append(tokens(got), ls[2].Token, ls[4].Token)...)
	for {
		ls := e.lease("g", 100, 0)
		if len(ls) == 0 {
			break
		}
		e.ack("g", tokens(ls)...)
	}
	st := e.status("g")
	wantStatus(t, st, 0, 0, 20, 0)
	if st.AckFloor != 21 || st.NextSeq != 21 {
		t.Fatalf("status %+v", st)
	}
	e.restart()
	// Only the meta key is left: no entry keys once everything is below the floor.
	if n := e.countKeys("q/e/"); n != 0 {
		t.Fatalf("%d entry keys left after acking everything", n)
	}
	if n := e.countKeys("q/"); n != 1 {
		t.Fatalf("%d keys in the state, want 1 (the meta)", n)
	}
	wantStatus(t, e.status("g"), 0, 0, 20, 0)
}

func TestWindowBound(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, clk.opts(Options{MaxInFlight: 10}))
	var es []journal.Entry
	for i := 0; i < 100; i++ {
		es = append(es, appEvent(""), other(journal.KindHeartbeat))
	}
	appendAll(t, e.store, "s", es...)
	ls := e.lease("g", 100, 0)
	if len(ls) != 10 {
		t.Fatalf("leased %d entries with MaxInFlight 10", len(ls))
	}
	st := e.status("g")
	if st.NextSeq != 20 || st.InFlight != 10 || st.HeadSeq != 200 {
		t.Fatalf("status %+v: want next 20, 10 in flight, head 200", st)
	}
	e.ack("g", tokens(ls[:5])...)
	ls2 := e.lease("g", 100, 0)
	wantSeqs(t, ls2, 21, 23, 25, 27, 29)
	if st := e.status("g"); st.AckFloor != 11 {
		t.Fatalf("floor %d, want 11", st.AckFloor)
	}
}

func TestBadArguments(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, clk.opts(Options{}))
	appendAll(t, e.store, "s", appEvent("a"))
	cases := []struct {
		name string
		call func() error
		want error
	}{
		{"max 0", func() error { _, err := e.m.Lease(bg(), "s", "g", 0, 0, 0); return err }, ErrInvalidArgument},
		{"max -1", func() error { _, err := e.m.Lease(bg(), "s", "g", -1, 0, 0); return err }, ErrInvalidArgument},
		{"lease > MaxLease", func() error { _, err := e.m.Lease(bg(), "s", "g", 1, 2*time.Hour, 0); return err }, ErrInvalidArgument},
		{"negative lease", func() error { _, err := e.m.Lease(bg(), "s", "g", 1, -time.Second, 0); return err }, ErrInvalidArgument},
		{"negative wait", func() error { _, err := e.m.Lease(bg(), "s", "g", 1, 0, -time.Second); return err }, ErrInvalidArgument},
		{"unknown stream", func() error { _, err := e.m.Lease(bg(), "nope", "g", 1, 0, 0); return err }, journal.ErrUnknownStream},
		{"unknown stream with wait", func() error { _, err := e.m.Lease(bg(), "nope", "g", 1, 0, time.Second); return err }, journal.ErrUnknownStream},
		{"bad stream name", func() error { _, err := e.m.Lease(bg(), "a b", "g", 1, 0, 0); return err }, ErrInvalidArgument},
		{"bad group name", func() error { _, err := e.m.Lease(bg(), "s", "", 1, 0, 0); return err }, ErrInvalidArgument},
		{"group name with NUL", func() error { _, err := e.m.Lease(bg(), "s", "g\x00h", 1, 0, 0); return err }, ErrInvalidArgument},
		{"ack unknown group", func() error { _, err := e.m.Ack(bg(), "s", "nope", nil); return err }, ErrUnknownGroup},
		{"status unknown group", func() error { _, err := e.m.Status(bg(), "s", "nope"); return err }, ErrUnknownGroup},
		{"dead letters unknown group", func() error { _, err := e.m.DeadLetters(bg(), "s", "nope", 0, 1); return err }, ErrUnknownGroup},
		{"groups of unknown stream", func() error { _, err := e.m.Groups(bg(), "nope"); return err }, journal.ErrUnknownStream},
		{"too many tokens", func() error { _, err := e.m.Ack(bg(), "s", "g", make([]Token, MaxBatch+1)); return err }, ErrInvalidArgument},
		{"dead letters limit 0", func() error { _, err := e.m.DeadLetters(bg(), "s", "g", 0, 0); return err }, ErrInvalidArgument},
	}
	e.lease("g", 1, 0) // create the group
	for _, c := range cases {
		err := c.call()
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
			continue
		}
		// Every message says what to do.
		if msg := err.Error(); !strings.Contains(msg, ";") && !strings.Contains(msg, "check") && !strings.Contains(msg, "(use ") {
			t.Errorf("%s: %q does not say what to do", c.name, msg)
		}
	}
	// Malformed tokens are rejected one by one; the rest of the call goes through.
	r, err := e.m.Ack(bg(), "s", "g", []Token{{SequenceID: 0, Attempt: 1, LeaseID: "6f1c0b7e-3f43-4a55-9d5e-2a7d6c8b9e10"}, {SequenceID: 1, Attempt: 1, LeaseID: "not-a-uuid"}, {SequenceID: 1}})
	if err != nil || r.Done != 0 || len(r.Rejected) != 3 {
		t.Fatalf("ack of malformed tokens = %+v, %v", r, err)
	}
	for _, rj := range r.Rejected {
		if !errors.Is(rj.Err, ErrInvalidArgument) {
			t.Fatalf("malformed token %v rejected with %v", rj.Token, rj.Err)
		}
	}
	// Lease clamps a large max instead of refusing it.
	if _, err := e.m.Lease(bg(), "s", "g2", MaxBatch*10, 0, 0); err != nil {
		t.Fatal(err)
	}
}

func TestLongPoll(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, clk.opts(Options{}))
	appendAll(t, e.store, "s", appEvent("a"))
	held := e.lease("g", 10, 0)
	wantSeqs(t, held, 1)

	// Nothing leasable: the wait runs out and Lease returns an empty slice.
	ls, err := e.m.Lease(bg(), "s", "g", 10, 0, 20*time.Millisecond)
	if err != nil || ls == nil || len(ls) != 0 {
		t.Fatalf("long poll with nothing leasable = %v, %v; want an empty slice", ls, err)
	}

	// An entry appended while waiting is handed out.
	got := make(chan []Leased, 1)
	go func() {
		ls, err := e.m.Lease(bg(), "s", "g", 10, 0, time.Minute)
		if err != nil {
			t.Error(err)
		}
		got <- ls
	}()
	time.Sleep(20 * time.Millisecond)
	appendAll(t, e.store, "s", appEvent("b"), appEvent("a"))
	ls = <-got
	wantSeqs(t, ls, 2)

	// An ack that unblocks a key wakes the waiter.
	go func() {
		ls, err := e.m.Lease(bg(), "s", "g", 10, 0, time.Minute)
		if err != nil {
			t.Error(err)
		}
		got <- ls
	}()
	time.Sleep(20 * time.Millisecond)
	e.ack("g", held[0].Token)
	wantSeqs(t, <-got, 3)

	// Close wakes a waiter with ErrClosed.
	errc := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, err := e.m.Lease(bg(), "s", "g", 10, 0, time.Minute)
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := e.m.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("waiting lease after Close: %v", err)
	}
	if _, err := e.m.Status(bg(), "s", "g"); !errors.Is(err, ErrClosed) {
		t.Fatalf("status after Close: %v", err)
	}
	e.restart()
}

func TestOptions(t *testing.T) {
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (Options{}).Validate(); err != nil {
		t.Fatal(err)
	}
	for _, o := range []Options{{MaxAttempts: -1}, {DefaultLease: -1}, {MaxLease: -1}, {MaxInFlight: -1}, {DefaultLease: 2 * time.Hour}} {
		if err := o.Validate(); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%+v: Validate = %v", o, err)
		}
	}
}

func TestEncodings(t *testing.T) {
	clk := newFakeClock()
	m := meta{floor: 3, next: 9, acked: 1 << 40, dead: 7, createdNanos: clk.Now().UnixNano()}
	if got, err := decodeMeta(m.encode()); err != nil || got != m {
		t.Fatalf("meta round trip = %+v, %v", got, err)
	}
	id, _ := newLeaseID()
	r := entryRec{status: statusOpen, attempt: 4, deadline: clk.Now(), lease: id}
	if got, err := decodeEntryRec(r.encode()); err != nil || got.status != r.status || got.attempt != 4 || !got.deadline.Equal(r.deadline) || !got.notBefore.IsZero() || got.lease != id {
		t.Fatalf("entry round trip = %+v, %v", got, err)
	}
	d := deadRec{attempts: 5, at: clk.Now(), lastAttempt: 5, lastLease: id, reason: "nacked"}
	if got, err := decodeDeadRec(d.encode()); err != nil || got.reason != "nacked" || !got.at.Equal(d.at) || got.lastLease != id || got.attempts != 5 {
		t.Fatalf("dead letter round trip = %+v, %v", got, err)
	}
	for _, b := range [][]byte{nil, {2}, make([]byte, 41)} {
		if _, err := decodeMeta(b); !errors.Is(err, ErrCorruptState) {
			t.Fatalf("decodeMeta(%x) = %v", b, err)
		}
		if _, err := decodeEntryRec(b); !errors.Is(err, ErrCorruptState) {
			t.Fatalf("decodeEntryRec(%x) = %v", b, err)
		}
		if _, err := decodeDeadRec(b); !errors.Is(err, ErrCorruptState) {
			t.Fatalf("decodeDeadRec(%x) = %v", b, err)
		}
	}
}

func TestManyExpiriesAtOnce(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, clk.opts(Options{MaxAttempts: 1}))
	var es []journal.Entry
	for i := 0; i < 1200; i++ {
		es = append(es, appEvent(""))
	}
	appendAll(t, e.store, "s", es...)
	ls := append(e.lease("g", MaxBatch*2, 0), e.lease("g", MaxBatch, 0)...)
	if len(ls) != 1200 || ls[999].Token.SequenceID != 1000 {
		t.Fatalf("leased %d entries", len(ls))
	}
	clk.Advance(DefaultLeaseTime)
	// One Ack sweeps at most maxDeadPerCall expired leases; a token whose
	// lease expired but was not swept yet is still refused.
	r, err := e.m.Ack(bg(), "s", "g", []Token{ls[0].Token, ls[1199].Token})
	if err != nil || r.Done != 0 || len(r.Rejected) != 2 {
		t.Fatalf("ack of expired tokens = %+v, %v", r, err)
	}
	if !strings.Contains(r.Rejected[0].Err.Error(), "dead-lettered") || !strings.Contains(r.Rejected[1].Err.Error(), "expired at") {
		t.Fatalf("rejections: %v; %v", r.Rejected[0].Err, r.Rejected[1].Err)
	}
	st := e.status("g")
	wantStatus(t, st, 0, 0, 0, 1200)
	if st.AckFloor != 1201 {
		t.Fatalf("floor %d, want 1201", st.AckFloor)
	}
	dl, err := e.m.DeadLetters(bg(), "s", "g", 1, 5000)
	if err != nil || len(dl) != maxDeadLetterPage || dl[999].Record.Seq != 1000 {
		t.Fatalf("first page: %d dead letters, %v", len(dl), err)
	}
	dl, err = e.m.DeadLetters(bg(), "s", "g", 1001, 5000)
	if err != nil || len(dl) != 200 || dl[0].Record.Seq != 1001 || dl[199].Record.Seq != 1200 {
		t.Fatalf("second page: %d dead letters, %v", len(dl), err)
	}
	e.restart()
	if n := e.countKeys("q/e/"); n != 0 {
		t.Fatalf("%d entry keys left below the floor", n)
	}
	if n := e.countKeys("q/d/"); n != 1200 {
		t.Fatalf("%d dead letter keys, want 1200", n)
	}
}

func TestTokenString(t *testing.T) {
	tok := Token{SequenceID: 42, Attempt: 3, LeaseID: "6F1C0B7E-3F43-4A55-9D5E-2A7D6C8B9E10"}
	if got := tok.String(); got != "42:3:6f1c0b7e3f434a559d5e2a7d6c8b9e10" {
		t.Fatalf("String() = %q", got)
	}
}
