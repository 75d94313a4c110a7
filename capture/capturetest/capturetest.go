// Package capturetest runs a capture loop into a throwaway Badger journal
// for the source packages' tests (capture/postgres, capture/mysql).
package capturetest

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cairnlog/cairn/capture"
	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/journal/badgerstore"
	"github.com/cairnlog/cairn/journal/journaltest"
)

// Loop is a capture loop writing one stream into a journal in a temp dir.
// The journal outlives Stop and Start, as it would a process restart.
type Loop struct {
	Store  *badgerstore.Store
	stream string
	cancel context.CancelFunc
	done   chan error
}

// NewLoop opens a fresh journal; the test's cleanup stops the loop and closes it.
func NewLoop(t testing.TB, stream string) *Loop {
	t.Helper()
	store, err := badgerstore.Open(badgerstore.DefaultConfig(filepath.Join(t.TempDir(), "data")))
	if err != nil {
		t.Fatal(err)
	}
	l := &Loop{Store: store, stream: stream}
	t.Cleanup(func() { l.Stop(t); store.Close() })
	return l
}

// Start runs capture.Run for src (short reconnect backoff) until Stop.
func (l *Loop) Start(t testing.TB, src capture.Source) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel, l.done = cancel, make(chan error, 1)
	cfg := capture.DefaultConfig(l.stream)
	cfg.MinBackoff = 50 * time.Millisecond
	if os.Getenv("CAIRN_TEST_LOG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	go func() { l.done <- capture.Run(ctx, cfg, l.Store, src) }()
}

// Stop ends the loop and fails the test if it had ended with an error.
func (l *Loop) Stop(t testing.TB) {
	if l.cancel == nil {
		return
	}
	l.cancel()
	l.cancel = nil
	select {
	case err := <-l.done:
		if err != nil {
			t.Errorf("capture ended with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("capture did not stop")
	}
}

// Ended waits up to d (0: only looks) for the loop to end by itself and
// returns its error.
func (l *Loop) Ended(d time.Duration) (err error, ended bool) {
	if l.cancel == nil {
		return nil, false
	}
	if d <= 0 {
		select {
		case err = <-l.done:
		default:
			return nil, false
		}
	} else {
		select {
		case err = <-l.done:
		case <-time.After(d):
			return nil, false
		}
	}
	l.cancel()
	l.cancel = nil
	return err, true
}

// WaitChanges waits up to a minute until the stream holds at least n change
// entries and returns all its records.
func (l *Loop) WaitChanges(t testing.TB, n int) []journal.Record {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		recs := journaltest.ReadAll(t, l.Store, l.stream)
		got := 0
		for _, rec := range recs {
			if rec.Kind == journal.KindChange {
				got++
			}
		}
		if got >= n {
			return recs
		}
		if err, ended := l.Ended(0); ended {
			t.Fatalf("capture stopped early: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 60s for %d changes in %s, have %d", n, l.stream, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
