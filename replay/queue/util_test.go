package queue

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/journal/badgerstore"
	"github.com/cairnlog/cairn/replay/state"
)

// fakeClock is an injectable clock that only moves when told.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }
func (c *fakeClock) opts(o Options) Options  { o.Now = c.Now; return o }
func bg() context.Context                    { return context.Background() }
func ctxT(t *testing.T) context.Context      { return t.Context() }
func appEvent(key string) journal.Entry {
	return journal.Entry{Kind: journal.KindAppEvent, Table: "jobs", Key: []byte(key), Payload: []byte("p-" + key)}
}
func other(k journal.Kind) journal.Entry { return journal.Entry{Kind: k} }
func tokens(ls []Leased) []Token {
	out := make([]Token, len(ls))
	for i, l := range ls {
		out[i] = l.Token
	}
	return out
}
func seqs(ls []Leased) []uint64 {
	out := make([]uint64, len(ls))
	for i, l := range ls {
		out[i] = l.Token.SequenceID
	}
	return out
}

func openJournal(t testing.TB) *badgerstore.Store {
	t.Helper()
	s, err := badgerstore.Open(badgerstore.DefaultConfig(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func appendAll(t testing.TB, s journal.Store, stream string, es ...journal.Entry) {
	t.Helper()
	for len(es) > 0 {
		n := min(len(es), 5000)
		if _, err := s.Append(context.Background(), stream, es[:n]); err != nil {
			t.Fatal(err)
		}
		es = es[n:]
	}
}

// env is a journal, a state dir and a Manager that can be restarted on it.
type env struct {
	t     testing.TB
	store *badgerstore.Store
	dir   string
	st    *state.DB
	m     *Manager
	opts  Options
}

func newEnv(t testing.TB, opts Options) *env {
	e := &env{t: t, store: openJournal(t), dir: t.TempDir(), opts: opts}
	e.open()
	t.Cleanup(e.close)
	return e
}

func (e *env) open() {
	st, err := state.Open(e.dir, nil, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	e.st = st
	e.m = NewManager(e.store, st, e.opts)
}

func (e *env) close() {
	if e.m == nil {
		return
	}
	if err := e.m.Close(); err != nil {
		e.t.Error(err)
	}
	if err := e.st.Close(); err != nil {
		e.t.Error(err)
	}
	e.m, e.st = nil, nil
}

func (e *env) restart() { e.close(); e.open() }

func (e *env) lease(group string, n int, lease time.Duration) []Leased {
	e.t.Helper()
	ls, err := e.m.Lease(bg(), "s", group, n, lease, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return ls
}

func (e *env) ack(group string, toks ...Token) Result {
	e.t.Helper()
	r, err := e.m.Ack(bg(), "s", group, toks)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) status(group string) Status {
	e.t.Helper()
	s, err := e.m.Status(bg(), "s", group)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// countKeys counts durable keys under prefix (state must be open).
func (e *env) countKeys(prefix string) int {
	n := 0
	if err := e.st.Scan([]byte(prefix), func(_, _ []byte) error { n++; return nil }); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func wantStatus(t testing.TB, got Status, pending, inFlight int, acked, dead uint64) {
	t.Helper()
	if got.Pending != pending || got.InFlight != inFlight || got.Acked != acked || got.DeadLettered != dead {
		t.Fatalf("status = pending %d in flight %d acked %d dead %d, want %d %d %d %d (%+v)",
			got.Pending, got.InFlight, got.Acked, got.DeadLettered, pending, inFlight, acked, dead, got)
	}
}

func wantSeqs(t testing.TB, ls []Leased, want ...uint64) {
	t.Helper()
	if fmt.Sprint(seqs(ls)) != fmt.Sprint(want) {
		t.Fatalf("leased seqs %v, want %v", seqs(ls), want)
	}
}
