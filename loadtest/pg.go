package main

// The PostgreSQL benchmarks: catch-up throughput against pg_recvlogical, and
// commit-to-durable latency at a steady paced load.
//
//	go run ./loadtest pg-catchup                                               # both, default sizes (2.5-4 minutes on 2 cores)
//	go run ./loadtest pg-catchup -inserts 20000 -updates 10000 -latency 3s     # smoke run (about 15 s)
//	go run ./loadtest pg-catchup -latency 0 -cpuprofile cairn.prof             # catch-up only; profile Cairn's capture in round 1
//	go run ./loadtest pg-latency [-duration 20s] [-rate 2000] [-rows 5]         # latency only
//
// Both start their own throwaway server with fixtures.LaunchPostgres (the
// fixture's settings: fsync=off, synchronous_commit=off, wal_level=logical)
// and stop it at the end, also on error or Ctrl-C. pg-catchup runs the
// catch-up comparison (pgcatchup.go) and then, unless -latency 0, the paced
// latency runs (pglatency.go) on the same server; pg-latency runs only the
// latter. -cpuprofile covers Cairn's timed capture in the first catch-up
// round in pg-catchup and Cairn's paced run in pg-latency, nothing else.
// Nothing is asserted about timings; a run fails only when the journal does
// not hold exactly what was written, or something errs.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"

	"github.com/cairnlog/cairn/fixtures"
)

// pgBench configures pg-catchup and pg-latency.
type pgBench struct {
	// Catchup runs the catch-up comparison (pg-catchup); false runs only
	// the latency part (pg-latency).
	Catchup bool
	Inserts int // rows inserted by the catch-up workload
	Updates int // rows then updated (ids 1..Updates), at most Inserts
	Chunk   int // rows per workload transaction
	Rounds  int // interleaved catch-up rounds, each on its own pair of slot copies

	Latency    time.Duration // length of the paced run; 0 skips it in pg-catchup
	Rate       int           // paced transactions per second
	Rows       int           // inserted rows per paced transaction
	Writers    int           // connections the paced writer spreads transactions over
	SyncCommit bool          // synchronous_commit=on in the paced writers' sessions
	LatencyRef bool          // run the paced writer once with a bare pgoutput client first

	Heartbeat  time.Duration // Cairn's heartbeat interval
	Dir        string        // scratch dir for the journals (default: a temp dir, removed after)
	CPUProfile string        // write a CPU profile of the measured Cairn phase here
}

func defaultPGBench() pgBench {
	return pgBench{
		Catchup: true, Inserts: 1_000_000, Updates: 500_000, Chunk: 10_000, Rounds: 3,
		Latency: 20 * time.Second, Rate: 2000, Rows: 5, Writers: 16, SyncCommit: true, LatencyRef: true,
		Heartbeat: 200 * time.Millisecond,
	}
}

func (c pgBench) validate() error {
	switch {
	case c.Catchup && c.Inserts < 1:
		return fmt.Errorf("-inserts %d must be positive", c.Inserts)
	case c.Updates < 0 || c.Updates > c.Inserts:
		return fmt.Errorf("-updates %d must be between 0 and -inserts (%d): updates touch ids 1..updates", c.Updates, c.Inserts)
	case c.Chunk < 1:
		return fmt.Errorf("-chunk %d must be positive", c.Chunk)
	case c.Rounds < 1 || c.Rounds > 8:
		return fmt.Errorf("-rounds %d must be 1..8 (each round holds two replication slots)", c.Rounds)
	case c.Latency < 0 || !c.Catchup && c.Latency == 0:
		return fmt.Errorf("-latency/-duration %v must be positive", c.Latency)
	case c.Rate < 1 || c.Rows < 1 || c.Writers < 1:
		return fmt.Errorf("-rate %d, -rows %d and -writers %d must be positive", c.Rate, c.Rows, c.Writers)
	case c.Latency > 0 && c.Latency.Seconds()*float64(c.Rate) < 1:
		return fmt.Errorf("-latency/-duration %v at -rate %d is less than one transaction", c.Latency, c.Rate)
	case c.Heartbeat <= 0:
		return fmt.Errorf("-heartbeat %v must be positive", c.Heartbeat)
	}
	return nil
}

// runPGBench starts a server, runs the selected parts and stops the server.
func runPGBench(ctx context.Context, log *slog.Logger, cfg pgBench, out io.Writer) (err error) {
	if err := cfg.validate(); err != nil {
		return err
	}
	dir, cleanup, err := scratchDir(cfg.Dir, "cairn-pgbench-")
	if err != nil {
		return err
	}
	defer cleanup()
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	pg, err := fixtures.LaunchPostgres(sctx, fixtures.PostgresOptions{})
	cancel()
	if err != nil {
		return fmt.Errorf("start PostgreSQL: %w", err)
	}
	defer func() {
		if serr := pg.Stop(); serr != nil {
			err = errors.Join(err, fmt.Errorf("stop PostgreSQL: %w", serr))
		}
	}()
	conn, err := pgx.Connect(ctx, pg.DSN())
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	var version string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil {
		return fmt.Errorf("read server version: %w", err)
	}
	fmt.Fprintf(out, "machine: %d CPUs, %s/%s, %s, PostgreSQL %s (fsync=off, synchronous_commit=off)\n",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), version)
	if cfg.Catchup {
		if err := runPGCatchup(ctx, log, cfg, pg, conn, dir, out); err != nil {
			return fmt.Errorf("pg-catchup: %w", err)
		}
	}
	if cfg.Latency > 0 {
		if cfg.Catchup {
			// The catch-up left about a gigabyte of dirty pages (WAL, heap,
			// journal: the server runs with fsync=off); write them back now
			// rather than under the paced run's Badger syncs.
			syscall.Sync()
		}
		if err := runPGLatency(ctx, log, cfg, pg, conn, dir, out); err != nil {
			return fmt.Errorf("pg-latency: %w", err)
		}
	}
	return nil
}

// startProfile starts a CPU profile into path ("" does nothing) and returns
// the function that stops it (safe to call more than once).
func startProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			pprof.StopCPUProfile()
			f.Close()
		})
	}, nil
}

func currentInsertLSN(ctx context.Context, conn *pgx.Conn) (pglogrepl.LSN, error) {
	var s string
	if err := conn.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(&s); err != nil {
		return 0, fmt.Errorf("read pg_current_wal_insert_lsn: %w", err)
	}
	return pglogrepl.ParseLSN(s)
}

// slotState reads a slot's confirmed_flush_lsn and whether a walsender
// streams from it.
func slotState(ctx context.Context, conn *pgx.Conn, slot string) (pglogrepl.LSN, bool, error) {
	var confirmed *string
	var active bool
	err := conn.QueryRow(ctx, "SELECT confirmed_flush_lsn::text, active FROM pg_replication_slots WHERE slot_name = $1", slot).
		Scan(&confirmed, &active)
	if err != nil {
		return 0, false, fmt.Errorf("read slot %s: %w", slot, err)
	}
	if confirmed == nil {
		return 0, active, nil
	}
	lsn, err := pglogrepl.ParseLSN(*confirmed)
	return lsn, active, err
}

func perSecond(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }

// runPGCommand parses the flags of pg-catchup or pg-latency and runs it.
func runPGCommand(ctx context.Context, log *slog.Logger, name string, args []string, out io.Writer) error {
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	cfg := defaultPGBench()
	cfg.Catchup = name == "pg-catchup"
	if cfg.Catchup {
		fs.IntVar(&cfg.Inserts, "inserts", cfg.Inserts, "rows inserted into the backlog")
		fs.IntVar(&cfg.Updates, "updates", cfg.Updates, "rows then updated (ids 1..N, at most -inserts)")
		fs.IntVar(&cfg.Chunk, "chunk", cfg.Chunk, "rows per backlog transaction")
		fs.IntVar(&cfg.Rounds, "rounds", cfg.Rounds, "interleaved catch-up rounds (median reported)")
		fs.DurationVar(&cfg.Latency, "latency", cfg.Latency, "length of the paced latency run after the catch-up (0 skips it)")
	} else {
		fs.DurationVar(&cfg.Latency, "duration", cfg.Latency, "length of the paced run")
	}
	fs.IntVar(&cfg.Rate, "rate", cfg.Rate, "paced transactions per second")
	fs.IntVar(&cfg.Rows, "rows", cfg.Rows, "rows inserted by each paced transaction")
	fs.IntVar(&cfg.Writers, "writers", cfg.Writers, "connections of the paced writer")
	fs.BoolVar(&cfg.SyncCommit, "sync-commit", cfg.SyncCommit, "synchronous_commit=on in the paced writers' sessions (see pglatency.go)")
	fs.BoolVar(&cfg.LatencyRef, "reference", cfg.LatencyRef, "first run the paced writer with a bare pgoutput client as the latency reference")
	fs.DurationVar(&cfg.Heartbeat, "heartbeat", cfg.Heartbeat, "Cairn's heartbeat interval")
	fs.StringVar(&cfg.Dir, "dir", "", "scratch dir for the journals (default: a temp dir, removed after)")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of Cairn's timed capture in round 1 (pg-catchup) or of the paced run (pg-latency)")
	_ = fs.Parse(args)
	return runPGBench(ctx, log, cfg, out)
}
