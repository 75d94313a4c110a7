package mysql

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairnlog/cairn/capture"
	"github.com/cairnlog/cairn/capture/capturetest"
	"github.com/cairnlog/cairn/fixtures"
	"github.com/cairnlog/cairn/journal"
)

// domainWriter is a connection that writes in one GTID domain.
func domainWriter(t *testing.T, db *sql.DB, domain int) *sql.Conn {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := conn.ExecContext(context.Background(), fmt.Sprintf("SET SESSION gtid_domain_id = %d", domain)); err != nil {
		t.Fatal(err)
	}
	return conn
}

// TestMultiDomainBinlog captures a binlog where three GTID domains
// interleave, restarting capture while the writers go on: every row
// arrives once, positions rise, the resume state names every domain, and
// a second capture of the same binlog gives the same head hash.
func TestMultiDomainBinlog(t *testing.T) {
	m := fixtures.StartMariaDB(t, fixtures.MariaDBOptions{})
	db := openDB(t, m.DSN())
	mustExec(t, db, `CREATE TABLE d (id INT PRIMARY KEY, domain INT, n INT)`)
	start := gtidPos(t, db)
	cfg := testConfig(m.DSN(), "domains")
	cfg.StartGTID = start
	r := startCapture(t, cfg)

	const perDomain = 1500
	var wg sync.WaitGroup
	for dom := 0; dom < 3; dom++ {
		conn := domainWriter(t, db, dom)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perDomain; i++ {
				id := dom*perDomain + i
				if _, err := conn.ExecContext(context.Background(), `INSERT INTO d VALUES (?, ?, ?)`, id, dom, i); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	// Restart capture a few times while the three domains write.
	for i := 0; i < 4; i++ {
		time.Sleep(100 * time.Millisecond)
		r.Stop(t)
		r.Start(t, newSource(t, cfg))
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if pos := gtidPos(t, db); strings.Count(pos, ",") != 2 {
		t.Fatalf("the binlog should have three domains, @@gtid_binlog_pos is %q", pos)
	}
	recs := capturetest.MustRender(r.WaitChanges(t, 3*perDomain))
	seen := map[string]bool{}
	var prev []byte
	lastN := map[string]int{}
	for _, rec := range recs {
		if string(rec.SourcePosition) <= string(prev) {
			t.Fatalf("seq %d: position does not rise", rec.Seq)
		}
		prev = rec.SourcePosition
		if rec.Kind != journal.KindChange {
			continue
		}
		if seen[string(rec.Key)] {
			t.Fatalf("row %s captured twice", rec.Key)
		}
		seen[string(rec.Key)] = true
		// Within a domain, rows keep their commit order.
		var id, dom, n int
		if _, err := fmt.Sscanf(string(rec.After), `{"id":%d,"domain":%d,"n":%d}`, &id, &dom, &n); err != nil {
			t.Fatalf("row %s: %v", rec.After, err)
		}
		d := fmt.Sprint(dom)
		if last, ok := lastN[d]; ok && n <= last {
			t.Fatalf("domain %d: row %d after row %d", dom, n, last)
		}
		lastN[d] = n
	}
	if len(seen) != 3*perDomain {
		t.Fatalf("captured %d rows, want %d", len(seen), 3*perDomain)
	}
	last, ok, err := resumeGTID(recs[len(recs)-1].SourcePosition)
	if err != nil || !ok || strings.Count(last, ",") != 2 {
		t.Fatalf("last position resumes after %q (%v), want one GTID per domain", last, err)
	}

	// The same binlog captured in one go gives the same journal.
	r2 := startCapture(t, cfg)
	r2.WaitChanges(t, 3*perDomain)
	h1, err := r.Store.Head(context.Background(), "domains")
	if err != nil {
		t.Fatal(err)
	}
	waitHead(t, r2, "domains", h1.Seq)
	h2, err := r2.Store.Head(context.Background(), "domains")
	if err != nil {
		t.Fatal(err)
	}
	if h1.Seq != h2.Seq || h1.Hash != h2.Hash {
		t.Fatalf("capture with restarts ended at seq %d %x, one clean capture at seq %d %x", h1.Seq, h1.Hash, h2.Seq, h2.Hash)
	}
}

func waitHead(t *testing.T, r *capturetest.Loop, stream string, seq uint64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if h, err := r.Store.Head(context.Background(), stream); err == nil && h.Seq >= seq {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not reach seq %d", stream, seq)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestGTIDOutOfOrder: a sequence number that goes back within a domain
// (possible with gtid_strict_mode=OFF) stops capture with an error that
// names both GTIDs and the fix, instead of journaling a position that
// does not rise.
func TestGTIDOutOfOrder(t *testing.T) {
	m := fixtures.StartMariaDB(t, fixtures.MariaDBOptions{Extra: map[string]string{"gtid_strict_mode": "OFF"}})
	db := openDB(t, m.DSN())
	mustExec(t, db, `CREATE TABLE o (id INT PRIMARY KEY)`)
	for i := 1; i <= 5; i++ {
		mustExec(t, db, `INSERT INTO o VALUES (?)`, i)
	}
	cfg := testConfig(m.DSN(), "order")
	cfg.StartGTID = gtidPos(t, db)
	r := startCapture(t, cfg)
	mustExec(t, db, `INSERT INTO o VALUES (6)`)
	r.WaitChanges(t, 1)
	conn := domainWriter(t, db, 0)
	if _, err := conn.ExecContext(context.Background(), `SET SESSION gtid_seq_no = 2`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), `INSERT INTO o VALUES (7)`); err != nil {
		t.Fatal(err)
	}
	err, ended := r.Ended(30 * time.Second)
	if !ended {
		t.Fatal("capture went on past a GTID that goes back")
	}
	if !errors.Is(err, ErrGTIDOrder) || !errors.Is(err, capture.ErrPermanent) || !strings.Contains(err.Error(), "0-1-2") || !strings.Contains(err.Error(), "gtid_strict_mode=ON") {
		t.Fatalf("out-of-order GTID: %v", err)
	}
	if n := countChanges(t, r.Store, "order"); n != 1 {
		t.Fatalf("journal holds %d changes, want the 1 before the bad GTID", n)
	}
}

// TestRetentionWarning: a journal more than half the binlog retention
// behind gets a warning at start that names both.
func TestRetentionWarning(t *testing.T) {
	m := fixtures.StartMariaDB(t, fixtures.MariaDBOptions{})
	db := openDB(t, m.DSN())
	mustExec(t, db, `SET GLOBAL binlog_expire_logs_seconds = 3600`)
	var logs bytes.Buffer
	cfg := testConfig(m.DSN(), "retention")
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	src := newSource(t, cfg)
	src.flavor = flavorMariaDB
	st, err := parseGTIDState(flavorMariaDB, gtidPos(t, db))
	if err != nil {
		t.Fatal(err)
	}
	if err := src.checkRetention(context.Background(), db, st, time.Now().Add(-20*time.Minute)); err != nil || logs.Len() != 0 {
		t.Fatalf("20 minutes behind a 1-hour retention: %v %s", err, logs.String())
	}
	if err := src.checkRetention(context.Background(), db, st, time.Now().Add(-45*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "far behind") || !strings.Contains(logs.String(), "binlog_expire_logs_seconds=3600") {
		t.Fatalf("45 minutes behind a 1-hour retention logged %q", logs.String())
	}
}
