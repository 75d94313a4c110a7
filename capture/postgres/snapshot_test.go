package postgres

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/cairnlog/cairn/fixtures"
	"github.com/cairnlog/cairn/journal"
)

func countKind(recs []journal.Record, k journal.Kind) int {
	n := 0
	for _, r := range recs {
		if r.Kind == k {
			n++
		}
	}
	return n
}

func idOf(t *testing.T, key []byte) int {
	var m struct{ ID int }
	if err := json.Unmarshal(key, &m); err != nil {
		t.Fatalf("key %s: %v", key, err)
	}
	return m.ID
}

// TestInitialSnapshot copies existing rows through the slot's exported
// snapshot while writes continue: every row shows up exactly once, either
// in the snapshot or as a streamed insert, and the snapshot comes first.
func TestInitialSnapshot(t *testing.T) {
	pg := fixtures.SharedPostgres(t)
	conn := sqlConn(t, pg.DSN())
	mustExec(t, conn, `CREATE TABLE items (id int PRIMARY KEY, v text); CREATE TABLE other (k text PRIMARY KEY)`)
	mustExec(t, conn, `INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 5000) g; INSERT INTO other VALUES ('a'), ('b')`)
	cfg := testConfig(pg.DSN(), "snap")
	cfg.Snapshot, cfg.SnapshotChunk = "initial", 700
	r := startCapture(t, cfg)
	mustExec(t, conn, `INSERT INTO items SELECT g, 'late' FROM generate_series(5001, 5100) g`)
	recs := r.WaitChanges(t, 1)
	for countKind(recs, journal.KindSnapshotRead)+countKind(recs, journal.KindChange) < 5102 {
		time.Sleep(50 * time.Millisecond)
		recs = readAll(t, r.Store, "snap")
	}
	seen := map[int]bool{}
	streaming := false
	prev := 0
	for _, rec := range recs {
		switch rec.Kind {
		case journal.KindSnapshotRead:
			if streaming {
				t.Fatalf("seq %d: snapshot row after streaming began", rec.Seq)
			}
			if !isSnapshotPosition(rec.SourcePosition) {
				t.Fatalf("seq %d: snapshot position %x", rec.Seq, rec.SourcePosition)
			}
			if rec.Table == "public.other" {
				continue
			}
			id := idOf(t, rec.Key)
			if id <= prev {
				t.Fatalf("snapshot of items out of key order: %d after %d", id, prev)
			}
			prev = id
			if seen[id] {
				t.Fatalf("row %d twice", id)
			}
			seen[id] = true
		case journal.KindTxBegin, journal.KindTxCommit:
			streaming = true
		case journal.KindChange:
			id := idOf(t, rec.Key)
			if seen[id] {
				t.Fatalf("row %d in the snapshot and streamed again", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != 5100 {
		t.Fatalf("saw %d distinct rows, want 5100", len(seen))
	}
	if countKind(recs, journal.KindSnapshotRead) < 2 {
		t.Fatal("table other was not snapshotted")
	}
	// The snapshot records each table's schema before its first row; the
	// stream derives the same schema from the Relation message and records
	// nothing more.
	schemas := map[string]int{}
	for _, rec := range recs {
		if rec.Kind == journal.KindSchema {
			schemas[rec.Table]++
		}
	}
	if schemas["public.items"] != 1 || schemas["public.other"] != 1 || len(schemas) != 2 {
		t.Fatalf("schema entries per table %v, want one each", schemas)
	}
}

// TestSnapshotResume interrupts the initial snapshot of a large table and
// restarts: every row appears exactly once and the row numbers continue.
func TestSnapshotResume(t *testing.T) {
	pg := fixtures.SharedPostgres(t)
	conn := sqlConn(t, pg.DSN())
	const rows = 200000
	mustExec(t, conn, `CREATE TABLE big (id bigint PRIMARY KEY, pad text)`)
	mustExec(t, conn, `INSERT INTO big SELECT g, repeat('x', 100) FROM generate_series(1, 200000) g`)
	cfg := testConfig(pg.DSN(), "resume")
	cfg.Snapshot, cfg.SnapshotChunk = "initial", 500
	cfg.MaxBatch, cfg.MaxBuffered = 500, 1000 // keep the journal close behind the reader
	r := startCapture(t, cfg)
	interrupted := 0
	for interrupted < 3 {
		var n int
		if h, err := r.Store.Head(context.Background(), "resume"); err == nil {
			n = int(h.Seq) // only snapshot rows so far
		}
		if n >= (interrupted+1)*rows/10 {
			r.Stop(t)
			r.Start(t, newSource(t, cfg))
			interrupted++
		}
		if n >= rows {
			t.Fatalf("snapshot finished before it could be interrupted (%d rows)", n)
		}
		time.Sleep(time.Millisecond)
	}
	deadline := time.Now().Add(60 * time.Second)
	var recs []journal.Record
	for {
		recs = readAll(t, r.Store, "resume")
		if countKind(recs, journal.KindSnapshotRead) >= rows || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	seen := map[int]bool{}
	i := 0
	for _, rec := range recs {
		if rec.Kind != journal.KindSnapshotRead {
			continue
		}
		i++
		if want := snapshotPosition(uint64(i)); string(rec.SourcePosition) != string(want) {
			t.Fatalf("seq %d: row number %x, want %x", rec.Seq, rec.SourcePosition, want)
		}
		id := idOf(t, rec.Key)
		if seen[id] {
			t.Fatalf("row %d copied twice across %d interruptions", id, interrupted)
		}
		seen[id] = true
	}
	if len(seen) != rows {
		t.Fatalf("copied %d distinct rows, want %d", len(seen), rows)
	}
}
