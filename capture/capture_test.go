package capture

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/journal/badgerstore"
	"github.com/cairnlog/cairn/journal/journaltest"
)

func pos(n uint64) []byte { return []byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)} }

func TestQueueOrderBatchingAndBackpressure(t *testing.T) {
	q := NewQueue(3, 6)
	ctx := context.Background()
	pushed := make(chan int, 100)
	go func() {
		for i := 1; i <= 20; i++ {
			if err := q.Push(ctx, journal.Entry{SourcePosition: pos(uint64(i))}); err != nil {
				t.Error(err)
				return
			}
			pushed <- i
		}
		q.Fail(errors.New("reader stopped"))
	}()
	time.Sleep(50 * time.Millisecond)
	if n := len(pushed); n > 9 {
		t.Fatalf("%d entries pushed with nobody reading; the queue should hold about 6 (+ one batch being filled)", n)
	}
	next := uint64(1)
	for {
		b, err := q.Next(ctx)
		if err != nil {
			if next != 21 || err.Error() != "reader stopped" {
				t.Fatalf("error %v after %d entries", err, next-1)
			}
			return
		}
		if len(b) == 0 || len(b) > 3 {
			t.Fatalf("batch of %d", len(b))
		}
		for _, e := range b {
			if string(e.SourcePosition) != string(pos(next)) {
				t.Fatalf("entry %x, want %d", e.SourcePosition, next)
			}
			next++
		}
	}
}

// flaky is a Source that fails transiently twice, re-sending from where the
// journal says, then delivers the rest.
type flaky struct {
	mu       sync.Mutex
	starts   []Resume
	total    uint64
	next     uint64
	failures int
	failAt   uint64
}

func (f *flaky) Start(ctx context.Context, r Resume) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts = append(f.starts, r)
	f.next = 1
	if len(r.Position) > 0 {
		f.next = uint64(r.Position[3]) - 2 // re-send a little: the journal must skip it
	}
	return nil
}

func (f *flaky) Next(ctx context.Context) ([]journal.Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failures < 2 && f.next == f.failAt+uint64(f.failures)*30 {
		f.failures++
		return nil, fmt.Errorf("connection reset (%d)", f.failures)
	}
	if f.next > f.total {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	e := journal.Entry{Kind: journal.KindChange, SourcePosition: pos(f.next), Payload: []byte(fmt.Sprint(f.next))}
	f.next++
	return []journal.Entry{e}, nil
}

func (f *flaky) Durable([]byte) {}
func (f *flaky) Close() error   { return nil }

func TestRunReconnectsAndSkipsResent(t *testing.T) {
	s, err := badgerstore.Open(badgerstore.DefaultConfig(filepath.Join(t.TempDir(), "d")))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	src := &flaky{total: 100, failAt: 20}
	cfg := DefaultConfig("flaky")
	cfg.MinBackoff, cfg.MaxBackoff = time.Millisecond, 5*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, s, src) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if h, err := s.Head(ctx, "flaky"); err == nil && h.Seq == 100 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("capture did not finish")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	recs := journaltest.ReadAll(t, s, "flaky")
	for i, r := range recs {
		if string(r.Payload) != fmt.Sprint(i+1) {
			t.Fatalf("seq %d holds %s: a re-sent entry was written twice or one was lost", r.Seq, r.Payload)
		}
	}
	if len(src.starts) != 3 || src.starts[1].Last == nil || src.starts[1].Last.Seq == 0 {
		t.Fatalf("starts %+v: want 3, resuming from the journal's last entry", src.starts)
	}
}

type broken struct{ flaky }

func (b *broken) Start(ctx context.Context, r Resume) error {
	return Permanent(errors.New("slot is lost"))
}

func TestRunStopsOnPermanentError(t *testing.T) {
	s, err := badgerstore.Open(badgerstore.DefaultConfig(filepath.Join(t.TempDir(), "d")))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = Run(context.Background(), DefaultConfig("x"), s, &broken{})
	if !errors.Is(err, ErrPermanent) {
		t.Fatalf("got %v, want the permanent error returned at once", err)
	}
}
