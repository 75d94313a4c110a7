package main

// pulsar: append throughput of journal/pulsarstore against (a) a raw
// pulsar-client-go producer sending the same payload sizes with dedup on and
// batching off (pulsarstore.CompareThroughput, interleaved rounds) and (b)
// badgerstore with the same appenders, in the same run, on a Pulsar
// standalone broker (one bookie) started from the fixtures' Maven jars.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cairnlog/cairn/fixtures"
	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/journal/badgerstore"
	"github.com/cairnlog/cairn/journal/pulsarstore"
)

func runPulsarCommand(ctx context.Context, log *slog.Logger, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("pulsar", flag.ExitOnError)
	entries := fs.Int("entries", 10000, "entries per side per round")
	rounds := fs.Int("rounds", 6, "measured rounds (median reported)")
	_ = fs.Parse(args)

	dir, err := os.MkdirTemp("", "cairn-pulsar-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	log.Info("starting Pulsar standalone")
	p, err := fixtures.LaunchPulsar(ctx, fixtures.PulsarOptions{JVMOptions: []string{"-XX:TieredStopAtLevel=4"}})
	if err != nil {
		return fmt.Errorf("start Pulsar (make pulsar-deps installs the jars): %w", err)
	}
	defer p.Stop()
	skey, _, err := journal.GenerateSigningKey("cairn-bench")
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "pulsar: Pulsar standalone, one bookie (journalSyncData=true), 16 appenders x 8 entries per call")
	for _, size := range []int{256, 4096} {
		cfg := pulsarstore.DefaultConfig(p.ServiceURL(), p.AdminURL(), filepath.Join(dir, fmt.Sprintf("p%d", size)))
		cfg.SigningKey = skey
		res, err := pulsarstore.CompareThroughput(ctx, pulsarstore.BenchConfig{Store: cfg, PayloadBytes: size, Entries: *entries, Rounds: *rounds, Workers: 16, Batch: 8})
		if err != nil {
			return err
		}
		badger, err := badgerAppendRate(ctx, filepath.Join(dir, fmt.Sprintf("b%d", size)), size, *entries*3, 16, 8)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "  %5d B: pulsarstore %8.0f/s  raw producer %8.0f/s  ratio %.2f (goal >= 0.8)  badgerstore %8.0f/s  pulsar/badger %.2f\n",
			size, res.StoreRate, res.RawRate, res.Ratio, badger, res.StoreRate/badger)
	}
	return nil
}

// badgerAppendRate appends n entries with the same appenders to a fresh
// badgerstore.
func badgerAppendRate(ctx context.Context, dir string, size, n, workers, batch int) (float64, error) {
	s, err := badgerstore.Open(badgerstore.DefaultConfig(dir))
	if err != nil {
		return 0, err
	}
	defer s.Close()
	payload := make([]byte, size)
	per := n / workers
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i += batch {
				es := make([]journal.Entry, 0, batch)
				for j := 0; j < batch; j++ {
					es = append(es, journal.Entry{Kind: journal.KindAppEvent, Payload: payload})
				}
				if _, err := s.Append(ctx, "bench", es); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return float64(per*workers) / time.Since(start).Seconds(), nil
}
