package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cairnlog/cairn/capture/capturetest"
	"github.com/cairnlog/cairn/fixtures"
	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/journal/journaltest"
)

func TestMain(m *testing.M) { os.Exit(fixtures.RunTests(m)) }

func testConfig(dsn, name string) Config {
	cfg := DefaultConfig(name, dsn)
	cfg.HeartbeatInterval = 200 * time.Millisecond
	cfg.StatusInterval = time.Second
	return cfg
}

func newSource(t *testing.T, cfg Config) *Source {
	t.Helper()
	src, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// startCapture runs the capture loop for cfg until the test ends, once the
// slot streams: changes count only from then. With an initial snapshot the
// slot streams only after the copy, so its existence is enough (the
// snapshot covers what comes before).
func startCapture(t *testing.T, cfg Config) *capturetest.Loop {
	t.Helper()
	r := capturetest.NewLoop(t, cfg.Name)
	r.Start(t, newSource(t, cfg))
	conn := sqlConn(t, cfg.DSN)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var active bool
		err := conn.QueryRow(context.Background(), `SELECT active FROM pg_replication_slots WHERE slot_name = $1`, cfg.Slot).Scan(&active)
		if err == nil && (active || cfg.Snapshot == "initial") {
			return r
		}
		if err, ended := r.Ended(0); ended {
			t.Fatalf("capture stopped before streaming: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("slot %s not streaming after 30s", cfg.Slot)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func readAll(t *testing.T, s journal.Store, stream string) []journal.Record {
	return journaltest.ReadAll(t, s, stream)
}

// withoutSchemas renders recs (capturetest.MustRender) and drops the
// schema entries, for tests about framing and positions of the rest.
func withoutSchemas(recs []journal.Record) []journal.Record {
	var out []journal.Record
	for _, r := range capturetest.MustRender(recs) {
		if r.Kind != journal.KindSchema {
			out = append(out, r)
		}
	}
	return out
}

// changes returns the change entries of recs, their row images rendered
// as canonical row JSON through the schema entries among recs.
func changes(recs []journal.Record) []journal.Record {
	var out []journal.Record
	for _, r := range capturetest.MustRender(recs) {
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
