package mysql

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cairnlog/cairn/capture/capturetest"
	"github.com/cairnlog/cairn/fixtures"
	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/journal/journaltest"
)

func keyID(t *testing.T, key []byte) int {
	var m struct{ ID int }
	if err := json.Unmarshal(key, &m); err != nil {
		t.Fatalf("key %s: %v", key, err)
	}
	return m.ID
}

// TestInitialSnapshot copies existing rows consistently with the binlog
// point the stream continues from: with writes going on, every row shows up
// exactly once, in the snapshot or as a streamed insert, snapshot first.
func TestInitialSnapshot(t *testing.T) {
	m := fixtures.SharedMariaDB(t)
	initialSnapshot(t, m.DSN(), m.Database())
}

// TestMySQLInitialSnapshot is the same on MySQL, whose snapshot point is
// @@gtid_executed read under FLUSH TABLES WITH READ LOCK.
func TestMySQLInitialSnapshot(t *testing.T) {
	m := fixtures.SharedMySQL(t)
	initialSnapshot(t, m.DSN(), m.Database())
}

func initialSnapshot(t *testing.T, dsn, database string) {
	db := openDB(t, dsn)
	mustExec(t, db, `CREATE TABLE items (id INT PRIMARY KEY, v VARCHAR(20)); CREATE TABLE other (k VARCHAR(5) PRIMARY KEY)`)
	for from := 1; from <= 5000; from += 1000 {
		var vals []string
		for i := from; i < from+1000; i++ {
			vals = append(vals, fmt.Sprintf("(%d, 'v%d')", i, i))
		}
		mustExec(t, db, `INSERT INTO items VALUES `+strings.Join(vals, ", "))
	}
	mustExec(t, db, `INSERT INTO other VALUES ('a'), ('b')`)
	cfg := testConfig(dsn, "snap")
	cfg.Snapshot, cfg.SnapshotChunk = "initial", 700
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 5001; i <= 5100; i++ {
			if _, err := db.Exec(`INSERT INTO items VALUES (?, 'late')`, i); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	r := startCapture(t, cfg)
	<-done
	deadline := time.Now().Add(60 * time.Second)
	var recs []journal.Record
	for {
		recs = journaltest.ReadAll(t, r.Store, "snap")
		n := 0
		for _, rec := range recs {
			if rec.Kind == journal.KindSnapshotRead || rec.Kind == journal.KindChange {
				n++
			}
		}
		// 5100 rows of items (copied or streamed) and the 2 of other: the
		// late inserts may all land in the copy, before other is copied.
		if n >= 5102 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("saw %d of 5102 rows", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	seen := map[int]bool{}
	streaming, others, prev := false, 0, 0
	for _, rec := range recs {
		switch rec.Kind {
		case journal.KindSnapshotRead:
			if streaming {
				t.Fatalf("seq %d: snapshot row after streaming began", rec.Seq)
			}
			if rec.Table != database+".items" {
				others++
				continue
			}
			id := keyID(t, rec.Key)
			if id <= prev {
				t.Fatalf("snapshot out of key order: %d after %d", id, prev)
			}
			prev = id
			if seen[id] {
				t.Fatalf("row %d twice", id)
			}
			seen[id] = true
		case journal.KindTxBegin:
			streaming = true
		case journal.KindChange:
			id := keyID(t, rec.Key)
			if seen[id] {
				t.Fatalf("row %d in the snapshot and streamed again", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != 5100 || others != 2 {
		t.Fatalf("saw %d distinct rows of items (want 5100) and %d of other (want 2)", len(seen), others)
	}
}

// TestSnapshotResume interrupts the snapshot of a large table several
// times: every row is copied exactly once and row numbers continue.
func TestSnapshotResume(t *testing.T) {
	m := fixtures.SharedMariaDB(t)
	db := openDB(t, m.DSN())
	const rows = 200000
	mustExec(t, db, `CREATE TABLE big (id BIGINT PRIMARY KEY, pad VARCHAR(100))`)
	mustExec(t, db, `INSERT INTO big SELECT seq, REPEAT('x', 100) FROM seq_1_to_200000`)
	cfg := testConfig(m.DSN(), "resume")
	cfg.Snapshot, cfg.SnapshotChunk = "initial", 500
	cfg.MaxBatch, cfg.MaxBuffered = 500, 1000
	r := startCapture(t, cfg)
	interrupted := 0
	for interrupted < 3 {
		var n int
		if h, err := r.Store.Head(context.Background(), "resume"); err == nil {
			n = int(h.Seq)
		}
		if n >= (interrupted+1)*rows/10 {
			r.Stop(t)
			r.Start(t, newSource(t, cfg))
			interrupted++
		}
		if n >= rows {
			t.Fatalf("snapshot finished before it could be interrupted")
		}
		time.Sleep(time.Millisecond)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		if h, err := r.Store.Head(context.Background(), "resume"); err == nil && h.Seq >= rows+1 { // and the schema entry
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("snapshot did not finish")
		}
		time.Sleep(50 * time.Millisecond)
	}
	recs := journaltest.ReadAll(t, r.Store, "resume")
	if len(recs) == 0 || recs[0].Kind != journal.KindSchema {
		t.Fatalf("the snapshot does not start with the table's schema entry")
	}
	recs = capturetest.MustRender(recs)[1:]
	seen := map[int]bool{}
	for i, rec := range recs {
		if rec.Kind != journal.KindSnapshotRead {
			t.Fatalf("seq %d: %s during the snapshot", rec.Seq, rec.Kind)
		}
		if !strings.Contains(string(rec.After), `"pad":"xxx`) {
			t.Fatalf("seq %d: row image %q", rec.Seq, rec.After)
		}
		if got, _ := positionIndex(rec.SourcePosition); got != uint64(i+2) { // the schema entry took counter 1
			t.Fatalf("seq %d: row number %d", rec.Seq, got)
		}
		id := keyID(t, rec.Key)
		if seen[id] {
			t.Fatalf("row %d copied twice across %d interruptions", id, interrupted)
		}
		seen[id] = true
	}
	if len(seen) != rows {
		t.Fatalf("copied %d rows, want %d", len(seen), rows)
	}
}
