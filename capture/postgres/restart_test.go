package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cairnlog/cairn/capture"
	"github.com/cairnlog/cairn/fixtures"
)

// TestServerRestart kills PostgreSQL mid-stream and starts it again: the
// capture loop reconnects on its own and every committed row lands once.
func TestServerRestart(t *testing.T) {
	pg := fixtures.StartPostgres(t, fixtures.PostgresOptions{ExtraConf: map[string]string{"synchronous_commit": "on"}})
	conn := sqlConn(t, pg.DSN())
	mustExec(t, conn, `CREATE TABLE r (id int PRIMARY KEY)`)
	r := startCapture(t, testConfig(pg.DSN(), "restart"))
	mustExec(t, conn, `INSERT INTO r SELECT generate_series(1, 500)`)
	r.WaitChanges(t, 500)
	if err := pg.Kill(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the source sees the connection drop
	if err := pg.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	conn2 := sqlConn(t, pg.DSN())
	mustExec(t, conn2, `INSERT INTO r SELECT generate_series(501, 1000)`)
	recs := changes(r.WaitChanges(t, 1000))
	seen := map[int]bool{}
	for _, c := range recs {
		id := idOf(t, c.Key)
		if seen[id] {
			t.Fatalf("row %d captured twice across the restart", id)
		}
		seen[id] = true
	}
	if len(seen) != 1000 {
		t.Fatalf("captured %d rows, want 1000", len(seen))
	}
}

// TestLostSlot makes PostgreSQL drop WAL the slot still needs: the next
// start fails at once, permanently, saying what happened and what to do.
func TestLostSlot(t *testing.T) {
	pg := fixtures.StartPostgres(t, fixtures.PostgresOptions{ExtraConf: map[string]string{
		"max_slot_wal_keep_size": "1MB", "wal_keep_size": "0", "min_wal_size": "32MB", "max_wal_size": "32MB",
	}})
	conn := sqlConn(t, pg.DSN())
	mustExec(t, conn, `CREATE TABLE kept (id int PRIMARY KEY); CREATE TABLE noise (id int, pad text)`)
	cfg := testConfig(pg.DSN(), "lost")
	cfg.Tables = []string{"public.kept"}
	r := startCapture(t, cfg)
	r.Stop(t)
	deadline := time.Now().Add(60 * time.Second)
	for {
		mustExec(t, conn, `INSERT INTO noise SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g`)
		mustExec(t, conn, `SELECT pg_switch_wal()`)
		mustExec(t, conn, `CHECKPOINT`)
		var status string
		if err := conn.QueryRow(context.Background(), `SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1`, cfg.Slot).Scan(&status); err != nil {
			t.Fatal(err)
		}
		if status == "lost" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slot never lost its WAL (wal_status %s)", status)
		}
	}
	src, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = src.Start(context.Background(), capture.Resume{})
	src.Close()
	if !errors.Is(err, ErrSlotLost) || !errors.Is(err, capture.ErrPermanent) || !strings.Contains(err.Error(), "pg_drop_replication_slot") {
		t.Fatalf("start on a lost slot: %v", err)
	}
}
