package main

// pg-catchup: how fast Cairn drains a backlog into the durable journal,
// against pg_recvlogical draining the same backlog to /dev/null.
//
//	go run ./loadtest pg-catchup [-inserts 1000000] [-updates 500000] [-chunk 10000] [-rounds 3] [-latency 0] [-cpuprofile FILE]
//
// Steps, on a fresh server:
//  1. Create the orders table (bigint id, bigint, numeric(12,2), text, text,
//     timestamptz; autovacuum off for it, so no vacuum runs during the timed
//     phases), publication bench_pub for it, and slot bench_a (pgoutput).
//  2. Write the backlog with server-side generate_series: -inserts rows in
//     transactions of -chunk rows, then -updates rows (ids 1..updates) in
//     transactions of -chunk rows (default: 100 x 10k inserts, 50 x 10k
//     updates). CHECKPOINT, so checkpoint I/O does not fall into a timed phase.
//  3. Record endLSN = pg_current_wal_insert_lsn() (the fixture runs with
//     synchronous_commit=off, so pg_current_wal_lsn may lag), then copy
//     bench_a to bench_b (and, for rounds 2.., to bench_a_N and bench_b_N):
//     every copy holds the same backlog.
//  4. Each round drains one pair, one drain after the other so each has the
//     machine's two cores to itself (the server's walsender decodes for
//     both); odd rounds run the reference first, even rounds Cairn first.
//     - Reference: pg_recvlogical --start --no-loop --endpos endLSN, pgoutput
//     proto_version 1, output to /dev/null; timed from start to exit.
//     - Cairn: capture.Run with the PostgreSQL source into a fresh Badger
//     journal, timed from start until the slot's confirmed_flush_lsn (which
//     Cairn advances only for what is durable) reaches endLSN. The journal is
//     then read back, and the run fails unless it holds exactly -inserts
//     insert and -updates update changes: a fast wrong run must not count.
//  5. Report each round, the median rates and their ratio (the machine's
//     speed varies from minute to minute, so one round alone misleads).

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"

	"github.com/cairnlog/cairn/capture"
	"github.com/cairnlog/cairn/capture/postgres"
	"github.com/cairnlog/cairn/fixtures"
	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/journal/badgerstore"
)

const (
	catchupSlotRef   = "bench_a"
	catchupSlotCairn = "bench_b"
	catchupPub       = "bench_pub"
	catchupStream    = "pg-catchup"
)

const ordersDDL = `CREATE TABLE orders (
	id          bigint PRIMARY KEY,
	customer_id bigint NOT NULL,
	amount      numeric(12,2) NOT NULL,
	status      text NOT NULL,
	note        text,
	created_at  timestamptz NOT NULL
) WITH (autovacuum_enabled = false)`

const ordersInsert = `INSERT INTO orders (id, customer_id, amount, status, note, created_at)
SELECT g, g % 50000, ((g * 7919) % 1000000) / 100.0, 'new',
       'order ' || g || ' for customer ' || (g % 50000),
       timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second'
FROM generate_series($1::bigint, $2::bigint) AS g`

const ordersUpdate = `UPDATE orders SET status = 'paid', amount = amount + 1.50, note = note || ' (paid)'
WHERE id BETWEEN $1 AND $2`

// drainResult is one timed drain of the backlog.
type drainResult struct {
	changes int
	elapsed time.Duration
	// journalAlone: appending the same entries into a fresh journal with no
	// source (mysql-catchup only; 0 when not measured).
	journalAlone time.Duration
}

func (d drainResult) rate() float64 { return perSecond(d.changes, d.elapsed) }

func runPGCatchup(ctx context.Context, log *slog.Logger, cfg pgBench, pg *fixtures.Postgres, conn *pgx.Conn, dir string, out io.Writer) error {
	for _, q := range []string{
		ordersDDL,
		"CREATE PUBLICATION " + catchupPub + " FOR TABLE orders",
		"SELECT pg_create_logical_replication_slot('" + catchupSlotRef + "', 'pgoutput')",
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("setup %q: %w", firstLine(q), err)
		}
	}
	startLSN, err := currentInsertLSN(ctx, conn)
	if err != nil {
		return err
	}
	began := time.Now()
	insertTx, err := writeChunks(ctx, conn, ordersInsert, cfg.Inserts, cfg.Chunk)
	if err != nil {
		return fmt.Errorf("insert workload: %w", err)
	}
	updateTx, err := writeChunks(ctx, conn, ordersUpdate, cfg.Updates, cfg.Chunk)
	if err != nil {
		return fmt.Errorf("update workload: %w", err)
	}
	wrote := time.Since(began)
	if _, err := conn.Exec(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	endLSN, err := currentInsertLSN(ctx, conn)
	if err != nil {
		return err
	}
	// Every copy is made before any slot is consumed, so each holds the
	// whole backlog.
	slots := make([][2]string, cfg.Rounds) // per round: reference slot, Cairn's slot
	for r := range slots {
		slots[r] = [2]string{catchupSlotRef, catchupSlotCairn}
		if r > 0 {
			slots[r] = [2]string{fmt.Sprintf("%s_%d", catchupSlotRef, r+1), fmt.Sprintf("%s_%d", catchupSlotCairn, r+1)}
		}
		for _, slot := range slots[r] {
			if slot == catchupSlotRef {
				continue
			}
			if _, err := conn.Exec(ctx, "SELECT pg_copy_logical_replication_slot($1, $2)", catchupSlotRef, slot); err != nil {
				return fmt.Errorf("copy slot %s to %s: %w", catchupSlotRef, slot, err)
			}
		}
	}
	changes := cfg.Inserts + cfg.Updates
	fmt.Fprintf(out, "backlog: %d inserts (%d transactions of up to %d rows) + %d updates (%d transactions) into orders in %.1f s; WAL %s..%s (%.0f MB)\n",
		cfg.Inserts, insertTx, cfg.Chunk, cfg.Updates, updateTx, wrote.Seconds(), startLSN, endLSN, float64(endLSN-startLSN)/(1<<20))
	fmt.Fprintf(out, "catch-up of %d changes to %s, pgoutput proto_version 1, %d interleaved rounds (each drains its own copy of one slot):\n",
		changes, endLSN, cfg.Rounds)

	report := &catchupReport{out: out, refName: "pg_recvlogical"}
	for r, pair := range slots {
		var ref, cairn drainResult
		runRef := func() error {
			ref, err = drainRecvlogical(ctx, pg, pair[0], endLSN, changes)
			if err != nil {
				return fmt.Errorf("pg_recvlogical on %s: %w", pair[0], err)
			}
			return nil
		}
		runCairn := func() error {
			profile := profileIf(r == 0, cfg.CPUProfile) // one profile: the first round's capture
			cairn, err = drainCairn(ctx, cfg, pg, conn, pair[1], filepath.Join(dir, fmt.Sprintf("catchup-%d", r+1)), profile, endLSN, changes, insertTx+updateTx)
			if err != nil {
				return fmt.Errorf("cairn on %s: %w", pair[1], err)
			}
			return nil
		}
		if err := interleave(r, runRef, runCairn); err != nil {
			return err
		}
		for _, slot := range pair {
			if _, err := conn.Exec(ctx, "SELECT pg_drop_replication_slot($1)", slot); err != nil {
				return fmt.Errorf("drop slot %s: %w", slot, err)
			}
		}
		report.round(r, ref, cairn)
		log.Info("catch-up round done", "round", r+1)
	}
	report.summary("pg_recvlogical -f /dev/null", changes, 0.9)
	return nil
}

// writeChunks runs stmt with ($1, $2) = (lo, hi) over 1..rows in chunks of
// chunk rows, each its own transaction, and returns how many it ran.
func writeChunks(ctx context.Context, conn *pgx.Conn, stmt string, rows, chunk int) (int, error) {
	return inChunks(rows, chunk, func(lo, hi int) (int64, error) {
		tag, err := conn.Exec(ctx, stmt, lo, hi)
		return tag.RowsAffected(), err
	})
}

// drainRecvlogical runs pg_recvlogical on slot until endLSN.
func drainRecvlogical(ctx context.Context, pg *fixtures.Postgres, slot string, endLSN pglogrepl.LSN, changes int) (drainResult, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(pg.BinDir(), "pg_recvlogical"),
		"-d", pg.DSN(), "--slot", slot, "--start", "--no-loop",
		"-o", "proto_version=1", "-o", "publication_names="+catchupPub,
		"--endpos", endLSN.String(), "-f", "/dev/null")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return drainResult{}, ctx.Err()
		}
		return drainResult{}, fmt.Errorf("%s: %w: %s", cmd, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return drainResult{changes: changes, elapsed: time.Since(start)}, nil
}

// drainCairn captures slot into a fresh journal in dir until the slot is
// confirmed up to endLSN, then checks what the journal holds and removes it.
// A CPU profile of the capture goes to profile unless it is "".
func drainCairn(ctx context.Context, cfg pgBench, pg *fixtures.Postgres, conn *pgx.Conn, slot, dir, profile string, endLSN pglogrepl.LSN, changes, txs int) (drainResult, error) {
	defer os.RemoveAll(dir)
	store, err := badgerstore.Open(badgerstore.DefaultConfig(dir))
	if err != nil {
		return drainResult{}, err
	}
	defer store.Close()
	pcfg := postgres.DefaultConfig(catchupStream, pg.DSN())
	pcfg.Slot, pcfg.Publication = slot, catchupPub
	pcfg.HeartbeatInterval = cfg.Heartbeat
	src, err := postgres.New(pcfg)
	if err != nil {
		return drainResult{}, err
	}

	stopProfile, err := startProfile(profile)
	if err != nil {
		return drainResult{}, err
	}
	defer stopProfile()
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- capture.Run(rctx, capture.DefaultConfig(catchupStream), store, src) }()
	var elapsed time.Duration
	for {
		confirmed, _, err := slotState(ctx, conn, slot)
		if err != nil {
			cancel()
			<-done
			return drainResult{}, err
		}
		if confirmed >= endLSN {
			elapsed = time.Since(start)
			break
		}
		select {
		case err := <-done:
			return drainResult{}, fmt.Errorf("capture stopped at %s before %s: %v", confirmed, endLSN, err)
		case <-ctx.Done():
			<-done
			return drainResult{}, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	err = <-done
	stopProfile() // the check below is not part of the capture
	if err != nil {
		return drainResult{}, fmt.Errorf("capture ended with %w", err)
	}
	if err := checkCatchupJournal(ctx, store, cfg, changes, txs); err != nil {
		return drainResult{}, err
	}
	return drainResult{changes: changes, elapsed: elapsed}, nil
}

// checkCatchupJournal counts the journal's entries by kind and op.
func checkCatchupJournal(ctx context.Context, store journal.Store, cfg pgBench, changes, txs int) error {
	var inserts, updates, other, begins, commits int
	for from := uint64(1); ; {
		recs, err := store.Read(ctx, catchupStream, from, 10_000)
		if err != nil {
			return fmt.Errorf("read the journal at %d: %w", from, err)
		}
		if len(recs) == 0 {
			break
		}
		for i := range recs {
			switch r := &recs[i]; {
			case r.Kind == journal.KindChange && r.Op == journal.OpInsert && r.Table == "public.orders":
				inserts++
			case r.Kind == journal.KindChange && r.Op == journal.OpUpdate && r.Table == "public.orders":
				updates++
			case r.Kind == journal.KindTxBegin:
				begins++
			case r.Kind == journal.KindTxCommit:
				commits++
			default:
				other++
			}
		}
		from += uint64(len(recs))
	}
	if inserts != cfg.Inserts || updates != cfg.Updates || inserts+updates != changes || other != 0 || begins != txs || commits != txs {
		return fmt.Errorf("the journal holds %d inserts, %d updates, %d other entries, %d tx_begin and %d tx_commit; want %d inserts, %d updates, 0 other, %d transactions",
			inserts, updates, other, begins, commits, cfg.Inserts, cfg.Updates, txs)
	}
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
