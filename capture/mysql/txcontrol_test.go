package mysql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cairnlog/cairn/capture"
	"github.com/cairnlog/cairn/capture/capturetest"
	"github.com/cairnlog/cairn/fixtures"
	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/journal/journaltest"
)

// TestSavepointsAndCreateSelect: savepoints inside a transaction are not
// statements to journal and do not end it, and CREATE TABLE ... SELECT
// keeps its rows, on both flavours.
func TestSavepointsAndCreateSelect(t *testing.T) {
	t.Run("mariadb", func(t *testing.T) {
		m := fixtures.SharedMariaDB(t)
		savepointsAndCreateSelect(t, m.DSN(), m.Database())
	})
	t.Run("mysql", func(t *testing.T) {
		m := fixtures.SharedMySQL(t)
		savepointsAndCreateSelect(t, m.DSN(), m.Database())
	})
}

func savepointsAndCreateSelect(t *testing.T, dsn, db0 string) {
	db := openDB(t, dsn)
	mustExec(t, db, `CREATE TABLE sp (id INT PRIMARY KEY)`)
	cfg := testConfig(dsn, "savepoints")
	cfg.StartGTID = gtidPos(t, db)
	r := startCapture(t, cfg)
	mustExec(t, db, `BEGIN; INSERT INTO sp VALUES (1); SAVEPOINT a; INSERT INTO sp VALUES (2); SAVEPOINT b; INSERT INTO sp VALUES (3);
		ROLLBACK TO SAVEPOINT b; RELEASE SAVEPOINT a; INSERT INTO sp VALUES (4); COMMIT`)
	mustExec(t, db, `CREATE TABLE cs (id INT PRIMARY KEY) SELECT id FROM sp WHERE id < 3`)
	mustExec(t, db, `INSERT INTO sp VALUES (5)`)
	var got []string
	// Seven changes: sp 1, 2, 4, the DDL, cs 1, 2, then sp 5.
	for _, rec := range capturetest.MustRender(r.WaitChanges(t, 7)) {
		switch {
		case rec.Kind == journal.KindTxBegin || rec.Kind == journal.KindTxCommit:
			got = append(got, rec.Kind.String())
		case rec.Kind == journal.KindChange && rec.Op == journal.OpDDL:
			got = append(got, "ddl "+strings.Fields(string(rec.Payload))[0])
		case rec.Kind == journal.KindChange:
			got = append(got, fmt.Sprintf("%s %s %s", rec.Op, strings.TrimPrefix(rec.Table, db0+"."), rec.After))
		}
	}
	want := []string{
		"tx_begin", `insert sp {"id":1}`, `insert sp {"id":2}`, `insert sp {"id":4}`, "tx_commit",
		"tx_begin", "ddl CREATE", `insert cs {"id":1}`, `insert cs {"id":2}`, "tx_commit",
		"tx_begin", `insert sp {"id":5}`, "tx_commit",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("captured:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestXARefused: an XA transaction stops capture with an error naming it,
// after everything before it is journaled.
func TestXARefused(t *testing.T) {
	t.Run("mariadb", func(t *testing.T) {
		m := fixtures.SharedMariaDB(t)
		xaRefused(t, m.DSN())
	})
	t.Run("mysql", func(t *testing.T) {
		m := fixtures.SharedMySQL(t)
		xaRefused(t, m.DSN())
	})
}

func xaRefused(t *testing.T, dsn string) {
	db := openDB(t, dsn)
	mustExec(t, db, `CREATE TABLE xa (id INT PRIMARY KEY)`)
	cfg := testConfig(dsn, "xa")
	cfg.StartGTID = gtidPos(t, db)
	r := startCapture(t, cfg)
	mustExec(t, db, `INSERT INTO xa VALUES (1)`)
	r.WaitChanges(t, 1)
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{`XA START 'x1'`, `INSERT INTO xa VALUES (2)`, `XA END 'x1'`, `XA PREPARE 'x1'`, `XA COMMIT 'x1'`} {
		if _, err := conn.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	err, ended := r.Ended(30 * time.Second)
	if !ended || !errors.Is(err, ErrUnsupported) || !errors.Is(err, capture.ErrPermanent) || !strings.Contains(err.Error(), "XA") {
		t.Fatalf("capture across an XA transaction: ended %v, %v", ended, err)
	}
	if n := countChanges(t, r.Store, "xa"); n != 1 {
		t.Fatalf("journal holds %d changes, want the 1 before the XA transaction", n)
	}
}

// TestSnapshotResumesFromEveryEntry crashes the initial snapshot after
// each of its entries in turn (a journal holding the first k entries of a
// clean run, schema entries included) and checks every resumed run ends
// with the clean run's journal.
func TestSnapshotResumesFromEveryEntry(t *testing.T) {
	m := fixtures.SharedMariaDB(t)
	db := openDB(t, m.DSN())
	mustExec(t, db, `CREATE TABLE s1 (id INT PRIMARY KEY, v VARCHAR(5)); CREATE TABLE s2 (k VARCHAR(5) PRIMARY KEY, n BIGINT)`)
	mustExec(t, db, `INSERT INTO s1 VALUES (1, 'a'), (2, 'b'), (3, 'c'); INSERT INTO s2 VALUES ('x', 1), ('y', 2), ('z', 3)`)
	cfg := testConfig(m.DSN(), "every")
	cfg.Snapshot, cfg.SnapshotChunk = "initial", 2
	clean := startCapture(t, cfg)
	want := waitEntries(t, clean, "every", 8) // two schema entries, six rows
	clean.Stop(t)
	for k := 1; k < len(want); k++ {
		r := journalPrefix(t, want, k, "every")
		r.Start(t, newSource(t, cfg))
		got := waitEntries(t, r, "every", len(want))
		r.Stop(t)
		if len(got) != len(want) || got[len(got)-1].Hash != want[len(want)-1].Hash {
			t.Fatalf("resumed after entry %d (%s): %d entries, head differs from the clean run's %d", k, want[k-1].Kind, len(got), len(want))
		}
	}
}

// journalPrefix is a fresh journal holding the first k entries of want,
// as a crash after the k-th append would leave it.
func journalPrefix(t *testing.T, want []journal.Record, k int, stream string, extra ...journal.Entry) *capturetest.Loop {
	t.Helper()
	r := capturetest.NewLoop(t, stream)
	prefix := make([]journal.Entry, 0, k+len(extra))
	for i := range k {
		e := want[i].Entry
		e.Stream, e.Seq, e.PrevHash, e.RecordedAt = "", 0, journal.Hash{}, time.Time{}
		prefix = append(prefix, e)
	}
	if _, err := r.Store.Append(context.Background(), stream, append(prefix, extra...)); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestSnapshotTableChangedWhileDown: a crash right after a table's
// snapshot schema entry, then an ALTER of that table before capture comes
// back: the copy goes on under a new schema entry, above the journal's
// high-water position, and every row names a schema the journal holds.
func TestSnapshotTableChangedWhileDown(t *testing.T) {
	m := fixtures.SharedMariaDB(t)
	db := openDB(t, m.DSN())
	mustExec(t, db, `CREATE TABLE c1 (id INT PRIMARY KEY, v VARCHAR(5)); INSERT INTO c1 VALUES (1,'a'),(2,'b')`)
	cfg := testConfig(m.DSN(), "changed")
	cfg.Snapshot = "initial"
	clean := startCapture(t, cfg)
	want := waitEntries(t, clean, "changed", 3)
	clean.Stop(t)
	r := journalPrefix(t, want, 1, "changed") // only c1's schema entry is durable
	mustExec(t, db, `ALTER TABLE c1 ADD COLUMN w INT DEFAULT 5`)
	r.Start(t, newSource(t, cfg))
	got := capturetest.MustRender(waitEntries(t, r, "changed", 4))
	r.Stop(t)
	var rows []string
	schemas := 0
	for _, g := range got {
		switch g.Kind {
		case journal.KindSchema:
			schemas++
		case journal.KindSnapshotRead:
			rows = append(rows, string(g.After))
		}
	}
	if schemas != 2 || strings.Join(rows, " ") != `{"id":1,"v":"a","w":5} {"id":2,"v":"b","w":5}` {
		t.Fatalf("%d schema entries and rows %v, want 2 and both rows with w", schemas, rows)
	}
}

// TestSnapshotResumeAroundAppEvents: app events appended through the API
// before the snapshot's first entry and in the middle of it do not stop a
// resumed snapshot, nor make it think the copy had finished.
func TestSnapshotResumeAroundAppEvents(t *testing.T) {
	m := fixtures.SharedMariaDB(t)
	db := openDB(t, m.DSN())
	mustExec(t, db, `CREATE TABLE a1 (id INT PRIMARY KEY); INSERT INTO a1 VALUES (1),(2),(3)`)
	cfg := testConfig(m.DSN(), "apps")
	cfg.Snapshot, cfg.SnapshotChunk = "initial", 1
	app := func(n uint64) journal.Entry {
		return journal.Entry{Kind: journal.KindAppEvent, ProducerID: "p", ProducerSeq: n, Payload: []byte("{}")}
	}
	clean := journalPrefix(t, nil, 0, "apps", app(1))
	clean.Start(t, newSource(t, cfg))
	want := waitEntries(t, clean, "apps", 5) // app event, schema, three rows
	clean.Stop(t)
	r := journalPrefix(t, want, 3, "apps", app(2)) // app event, schema, row 1, then another app event
	r.Start(t, newSource(t, cfg))
	got := waitEntries(t, r, "apps", 6)
	r.Stop(t)
	var ids []string
	for _, g := range got {
		if g.Kind == journal.KindSnapshotRead {
			ids = append(ids, string(g.Key))
		}
	}
	if strings.Join(ids, " ") != `{"id":1} {"id":2} {"id":3}` {
		t.Fatalf("snapshot rows %v, want each of 1, 2, 3 once", ids)
	}
}

func waitEntries(t *testing.T, r *capturetest.Loop, stream string, n int) []journal.Record {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		recs := journaltest.ReadAll(t, r.Store, stream)
		if len(recs) >= n {
			time.Sleep(100 * time.Millisecond) // nothing more may come
			return journaltest.ReadAll(t, r.Store, stream)
		}
		if err, ended := r.Ended(0); ended {
			t.Fatalf("capture stopped early: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d entries after 30 s", len(recs), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMinimalMetadataDDLFromAnotherDatabase: without full row metadata, a
// DDL run while another database is the session's default still makes
// capture read the changed table's columns again.
func TestMinimalMetadataDDLFromAnotherDatabase(t *testing.T) {
	m := fixtures.StartMariaDB(t, fixtures.MariaDBOptions{Extra: map[string]string{"binlog_row_metadata": "MINIMAL"}})
	db := openDB(t, m.DSN())
	mustExec(t, db, `CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10)); CREATE DATABASE other`)
	cfg := testConfig(m.DSN(), "otherdb")
	cfg.StartGTID = gtidPos(t, db)
	r := startCapture(t, cfg)
	mustExec(t, db, `INSERT INTO t VALUES (1, 'x')`)
	r.WaitChanges(t, 1)
	mustExec(t, db, `USE other; ALTER TABLE `+m.Database()+`.t CHANGE v w VARCHAR(10); INSERT INTO `+m.Database()+`.t VALUES (2, 'y')`)
	var got []string
	for _, rec := range capturetest.MustRender(r.WaitChanges(t, 2)) {
		if rec.Kind == journal.KindChange && rec.Op == journal.OpInsert {
			got = append(got, string(rec.After))
		}
	}
	if want := `{"id":1,"v":"x"} {"id":2,"w":"y"}`; strings.Join(got, " ") != want {
		t.Fatalf("captured %s, want %s", strings.Join(got, " "), want)
	}
}
