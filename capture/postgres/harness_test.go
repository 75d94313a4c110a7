package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cairnlog/cairn/capture"
	"github.com/cairnlog/cairn/fixtures"
	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/journal/badgerstore"
	"github.com/cairnlog/cairn/journal/journaltest"
)

func TestMain(m *testing.M) { os.Exit(fixtures.RunTests(m)) }

// running is a capture loop writing into a Badger journal in a temp dir.
type running struct {
	store  *badgerstore.Store
	src    *Source
	cancel context.CancelFunc
	done   chan error
}

func testConfig(dsn, name string) Config {
	cfg := DefaultConfig(name, dsn)
	cfg.HeartbeatInterval = 200 * time.Millisecond
	cfg.StatusInterval = time.Second
	return cfg
}

// startCapture runs the capture loop for cfg until the test ends.
func startCapture(t *testing.T, cfg Config) *running {
	t.Helper()
	store, err := badgerstore.Open(badgerstore.DefaultConfig(filepath.Join(t.TempDir(), "data")))
	if err != nil {
		t.Fatal(err)
	}
	src, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{store: store, src: src, cancel: cancel, done: make(chan error, 1)}
	lc := capture.DefaultConfig(cfg.Name)
	go func() { r.done <- capture.Run(ctx, lc, store, src) }()
	t.Cleanup(func() { r.stop(t) })
	// Changes count only from the moment the slot exists and streams. With
	// an initial snapshot the slot streams only after the copy, so waiting
	// for it to exist is enough (the snapshot covers what comes before).
	conn := sqlConn(t, cfg.DSN)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var active bool
		err := conn.QueryRow(context.Background(), `SELECT active FROM pg_replication_slots WHERE slot_name = $1`, cfg.Slot).Scan(&active)
		if err == nil && (active || cfg.Snapshot == "initial") {
			return r
		}
		select {
		case err := <-r.done:
			t.Fatalf("capture stopped before streaming: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("slot %s not streaming after 30s", cfg.Slot)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *running) stop(t *testing.T) {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("capture ended with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("capture did not stop")
	}
	r.store.Close()
}

// waitChanges waits until the stream holds at least n change entries and
// returns all records.
func (r *running) waitChanges(t *testing.T, stream string, n int) []journal.Record {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		recs := readAll(t, r.store, stream)
		got := 0
		for _, rec := range recs {
			if rec.Kind == journal.KindChange {
				got++
			}
		}
		if got >= n {
			return recs
		}
		select {
		case err := <-r.done:
			t.Fatalf("capture stopped early: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 60s for %d changes in %s, have %d", n, stream, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func readAll(t *testing.T, s journal.Store, stream string) []journal.Record {
	return journaltest.ReadAll(t, s, stream)
}

func changes(recs []journal.Record) []journal.Record {
	var out []journal.Record
	for _, r := range recs {
		if r.Kind == journal.KindChange {
			out = append(out, r)
		}
	}
	return out
}

// row decodes a row image into column name -> raw JSON.
func row(t *testing.T, b []byte) map[string]json.RawMessage {
	t.Helper()
	if b == nil {
		return nil
	}
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("row image %q: %v", b, err)
	}
	return m
}

// sqlConn connects with the same pinned session settings the source uses,
// so ::text renders exactly as pgoutput does.
func sqlConn(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := connectSQL(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func mustExec(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func name(t *testing.T) string {
	return fmt.Sprintf("t%d", time.Now().UnixNano()%1e9)
}
