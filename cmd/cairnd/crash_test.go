package main

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"

	"github.com/cairnlog/cairn/capture/postgres"
	"github.com/cairnlog/cairn/fixtures"
	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/journal/badgerstore"
	"github.com/cairnlog/cairn/journal/journaltest"
)

// The test binary doubles as cairnd: with CAIRND_MAIN=1 it runs main().
func TestMain(m *testing.M) {
	if os.Getenv("CAIRND_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(fixtures.RunTests(m))
}

type daemon struct {
	cmd  *exec.Cmd
	logs *strings.Builder
}

func startDaemon(t *testing.T, config string) *daemon {
	t.Helper()
	cmd := exec.Command(os.Args[0], "--config", config)
	cmd.Env = append(os.Environ(), "CAIRND_MAIN=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logs := &strings.Builder{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{cmd: cmd, logs: logs}
	t.Cleanup(func() { d.kill() })
	return d
}

func (d *daemon) kill() {
	if d.cmd.ProcessState == nil {
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		_ = d.cmd.Wait()
	}
}

func (d *daemon) term(t *testing.T) {
	t.Helper()
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("cairnd exited with %v:\n%s", err, d.logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("cairnd ignored SIGTERM:\n%s", d.logs.String())
	}
}

func writeConfig(t *testing.T, dir, dsn, slot string) string {
	t.Helper()
	path := filepath.Join(dir, "cairnd.yaml")
	body := fmt.Sprintf(`data_dir: %s
log_level: warn
sources:
  - name: shop
    type: postgres
    dsn: %s
    slot: %s
    publication: cairn_pub
    heartbeat_interval: 100ms
`, filepath.Join(dir, "data"), dsn, slot)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func confirmedFlush(t *testing.T, conn *pgx.Conn, slot string) pglogrepl.LSN {
	t.Helper()
	var s string
	if err := conn.QueryRow(context.Background(), `SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&s); err != nil {
		t.Fatal(err)
	}
	lsn, err := pglogrepl.ParseLSN(s)
	if err != nil {
		t.Fatal(err)
	}
	return lsn
}

// openJournal opens a data dir after cairnd stopped, repairing a torn log
// with a read-write open if the last writer was killed.
func openJournal(t *testing.T, dir string) *badgerstore.Store {
	t.Helper()
	cfg := badgerstore.DefaultConfig(filepath.Join(dir, "data"))
	cfg.MustExist = true
	cfg.ReadOnly = true
	s, err := badgerstore.Open(cfg)
	if err != nil {
		cfg.ReadOnly = false
		if s, err = badgerstore.Open(cfg); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func readAll(t *testing.T, s *badgerstore.Store) []journal.Record {
	return journaltest.ReadAll(t, s, "shop")
}

// runToEnd runs cairnd until the slot has confirmed past walEnd.
func runToEnd(t *testing.T, conn *pgx.Conn, config, slot string, walEnd pglogrepl.LSN) {
	t.Helper()
	d := startDaemon(t, config)
	deadline := time.Now().Add(3 * time.Minute)
	for confirmedFlush(t, conn, slot) < walEnd {
		if time.Now().After(deadline) {
			t.Fatalf("cairnd did not catch up to %s:\n%s", walEnd, d.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.term(t)
}

// TestCrashDeterminism captures the same >=200k changes twice from two
// copies of one slot: once without interruption and once while cairnd is
// SIGKILLed at random moments at least 20 times. Both journals must end
// with the same head hash; after every kill the slot must not be confirmed
// past what the journal holds.
func TestCrashDeterminism(t *testing.T) {
	pg := fixtures.StartPostgres(t, fixtures.PostgresOptions{})
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`CREATE TABLE orders (id bigint PRIMARY KEY, customer bigint, amount numeric(12,2), note text, status text, updated timestamptz)`)
	exec(`CREATE PUBLICATION cairn_pub FOR TABLE orders`)
	exec(`SELECT pg_create_logical_replication_slot('slot_a', 'pgoutput')`)

	// 180 transactions of 1000 inserts, 2000 one-row transactions, one
	// 18000-row update and one 1000-row delete: 201,000 changes.
	for i := 0; i < 180; i++ {
		// Two shape changes early on (where the kills fall) make three
		// schema versions, which the kills must not duplicate or shift.
		switch i {
		case 10:
			exec(`ALTER TABLE orders ADD COLUMN priority int`)
		case 30:
			exec(`ALTER TABLE orders ADD COLUMN region text NOT NULL DEFAULT 'eu'`)
		}
		exec(`INSERT INTO orders SELECT g, g % 977, (g % 10000) / 100.0, 'note ' || g, 'new', '2026-11-26T00:00:00Z'::timestamptz + g * interval '1 second'
			FROM generate_series($1::bigint, $2::bigint) g`, i*1000+1, (i+1)*1000)
	}
	for i := 0; i < 2000; i++ {
		exec(`UPDATE orders SET status = 'paid' WHERE id = $1`, i*7+1)
	}
	exec(`UPDATE orders SET amount = amount + 1 WHERE id % 10 = 0`)
	exec(`DELETE FROM orders WHERE id > 179000`)
	const wantChanges = 180000 + 2000 + 18000 + 1000
	var walEnd pglogrepl.LSN
	var s string
	if err := conn.QueryRow(ctx, `SELECT pg_current_wal_insert_lsn()::text`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	walEnd, _ = pglogrepl.ParseLSN(s)
	exec(`SELECT pg_copy_logical_replication_slot('slot_a', 'slot_b')`)

	// Clean run.
	dirA := t.TempDir()
	runToEnd(t, conn, writeConfig(t, dirA, pg.DSN(), "slot_a"), "slot_a", walEnd)
	ja := openJournal(t, dirA)
	recsA := readAll(t, ja)
	headA, err := ja.Head(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	n, schemas := 0, 0
	for _, r := range recsA {
		switch r.Kind {
		case journal.KindChange:
			n++
		case journal.KindSchema:
			schemas++
		}
	}
	if schemas != 3 {
		t.Fatalf("the clean run recorded %d schema versions, want 3", schemas)
	}
	if n != wantChanges {
		t.Fatalf("clean run captured %d changes, want %d", n, wantChanges)
	}
	ja.Close()

	// Crash run.
	dirB := t.TempDir()
	configB := writeConfig(t, dirB, pg.DSN(), "slot_b")
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	kills := 0
	for kills < 20 {
		d := startDaemon(t, configB)
		time.Sleep(time.Duration(100+rng.Intn(300)) * time.Millisecond)
		d.kill()
		kills++
		// The slot must never be confirmed past the journal: every clean-run
		// transaction that ends at or before the confirmed LSN must already
		// have its tx_commit in the crash-run journal.
		confirmed := confirmedFlush(t, conn, "slot_b")
		jb := openJournal(t, dirB)
		recsB := readAll(t, jb)
		jb.Close()
		var need []byte
		for _, r := range recsA {
			if r.Kind != journal.KindTxCommit {
				continue
			}
			end, err := pglogrepl.ParseLSN(r.Metadata["pg.end_lsn"])
			if err != nil {
				t.Fatal(err)
			}
			if end <= confirmed {
				need = r.SourcePosition
			}
		}
		var have []byte
		for i := len(recsB) - 1; i >= 0; i-- {
			if recsB[i].Kind == journal.KindTxCommit {
				have = recsB[i].SourcePosition
				break
			}
		}
		if need != nil && string(have) < string(need) {
			lsn, idx, _ := postgres.ParsePosition(need)
			t.Fatalf("kill %d: slot confirmed %s, past the journal (it needs the commit at %s/%d)", kills, confirmed, lsn, idx)
		}
		t.Logf("kill %d: journal holds %d of %d entries, slot confirmed %s", kills, len(recsB), len(recsA), confirmed)
		for i, r := range recsB {
			if i < len(recsA) && r.Hash != recsA[i].Hash {
				t.Fatalf("kill %d: seq %d differs from the clean run", kills, r.Seq)
			}
		}
	}
	runToEnd(t, conn, configB, "slot_b", walEnd)
	jb := openJournal(t, dirB)
	defer jb.Close()
	headB, err := jb.Head(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if headA.Seq != headB.Seq || headA.Hash != headB.Hash {
		t.Fatalf("after %d kills the journals differ:\nclean %d %s\ncrash %d %s", kills, headA.Seq, headA.Hash, headB.Seq, headB.Hash)
	}
	if _, err := journal.VerifyStream(ctx, jb, "shop", jb.VerifierKey(), false, nil); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d changes, %d entries, %d kills, head %s", wantChanges, headB.Seq, kills, headB.Hash)
}

// waitSlotActive waits until cairnd streams from slot (capture started).
func waitSlotActive(t *testing.T, conn *pgx.Conn, slot string, d *daemon) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var active bool
		_ = conn.QueryRow(context.Background(), `SELECT active FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&active)
		if active {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("capture never started on slot %s:\n%s", slot, d.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
