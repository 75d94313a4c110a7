// Command loadtest runs Cairn's benchmarks, each against a reference measured
// in the same run, and prints the rates and ratios (recorded in
// docs/benchmarks.md).
//
//	go run ./loadtest journal [-entries N] [-verify-entries N] [-dir DIR]
//	go run ./loadtest pg-catchup [-inserts N] [-updates N] [-latency D] [-cpuprofile FILE]
//	go run ./loadtest pg-latency [-duration D] [-rate N] [-rows N] [-writers N]
//	go run ./loadtest mysql-catchup [-server mariadb|mysql] [-inserts N] [-updates N] [-rounds N] [-cpuprofile FILE]
//	go run ./loadtest subscribe [-entries N] [-rounds N] [-rest-pages N]
//	go run ./loadtest pulsar [-entries N] [-rounds N]
//
// pg-catchup and pg-latency are described in pg.go, pgcatchup.go and
// pglatency.go; mysql-catchup (MariaDB by default, MySQL with -server mysql)
// in mysqlcatchup.go.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: loadtest journal|pg-catchup|pg-latency|mysql-catchup|subscribe|pulsar [flags]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	var err error
	switch os.Args[1] {
	case "journal":
		fs := flag.NewFlagSet("journal", flag.ExitOnError)
		cfg := defaultJournalBench()
		fs.IntVar(&cfg.Entries, "entries", cfg.Entries, "entries for the grouped append runs")
		fs.IntVar(&cfg.VerifyEntries, "verify-entries", cfg.VerifyEntries, "entries in the journal that verify reads")
		fs.IntVar(&cfg.Rounds, "rounds", cfg.Rounds, "interleaved rounds of the grouped append runs (median reported)")
		fs.IntVar(&cfg.Concurrency, "concurrency", cfg.Concurrency, "concurrent single-entry appenders")
		fs.DurationVar(&cfg.Window, "window", cfg.Window, "how long each single-entry run lasts")
		fs.StringVar(&cfg.Dir, "dir", "", "scratch dir (default: a temp dir, removed after)")
		profile := fs.String("cpuprofile", "", "write a CPU profile to this file")
		_ = fs.Parse(os.Args[2:])
		if *profile != "" {
			f, ferr := os.Create(*profile)
			if ferr != nil {
				fmt.Fprintln(os.Stderr, "loadtest:", ferr)
				os.Exit(1)
			}
			_ = pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
		err = runJournalBench(ctx, log, cfg, os.Stdout)
	case "pg-catchup", "pg-latency":
		err = runPGCommand(ctx, log, os.Args[1], os.Args[2:], os.Stdout)
	case "mysql-catchup":
		err = runMySQLCommand(ctx, log, os.Args[2:], os.Stdout)
	case "subscribe":
		err = runSubscribeCommand(ctx, log, os.Args[2:], os.Stdout)
	case "pulsar":
		err = runPulsarCommand(ctx, log, os.Args[2:], os.Stdout)
	default:
		err = fmt.Errorf("unknown benchmark %q (want: journal, pg-catchup, pg-latency, mysql-catchup, subscribe or pulsar)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}
