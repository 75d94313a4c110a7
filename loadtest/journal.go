package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/journal/badgerstore"
)

type journalBench struct {
	Entries       int
	VerifyEntries int
	Concurrency   int
	Window        time.Duration
	Dir           string
	PayloadBytes  int
	Group         int
	Rounds        int
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func defaultJournalBench() journalBench {
	return journalBench{Entries: 200_000, VerifyEntries: 1_000_000, Concurrency: 64, Window: 3 * time.Second, PayloadBytes: 256, Group: 1000, Rounds: 5}
}

func runJournalBench(ctx context.Context, log *slog.Logger, cfg journalBench, out io.Writer) error {
	dir, cleanup, err := scratchDir(cfg.Dir, "cairn-bench-")
	if err != nil {
		return err
	}
	defer cleanup()
	payload := make([]byte, cfg.PayloadBytes)
	for i := range payload {
		payload[i] = byte('a' + i%26)
	}
	fmt.Fprintf(out, "machine: %d CPUs, %s/%s, %s\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())

	// The disk's sync latency varies a lot from second to second, so the
	// three runs are interleaved, repeated, and the medians compared.
	sample := journal.Entry{Stream: "bench", Kind: journal.KindAppEvent, Payload: payload}
	recordBytes := journal.EncodedSize(&sample) + 18 + 32
	var raws, rawSames, groupeds []float64
	for round := 0; round < cfg.Rounds; round++ {
		sub := filepath.Join(dir, fmt.Sprintf("round%d", round))
		r, err := benchRawBadger(filepath.Join(sub, "raw"), cfg, payload)
		if err != nil {
			return fmt.Errorf("raw badger: %w", err)
		}
		// A second reference writes values as large as a Cairn record (entry
		// bytes, record header and about one Merkle node), separating the cost
		// of the format's extra bytes from the cost of hashing and chaining.
		rs, err := benchRawBadger(filepath.Join(sub, "raw-same"), cfg, make([]byte, recordBytes))
		if err != nil {
			return fmt.Errorf("raw badger, record-sized values: %w", err)
		}
		g, err := benchGrouped(ctx, filepath.Join(sub, "grouped"), cfg, payload)
		if err != nil {
			return fmt.Errorf("grouped append: %w", err)
		}
		raws, rawSames, groupeds = append(raws, r), append(rawSames, rs), append(groupeds, g)
		if err := os.RemoveAll(sub); err != nil {
			return err
		}
	}
	raw, rawSame, grouped := median(raws), median(rawSames), median(groupeds)
	fmt.Fprintf(out, "append %d x %d-byte payloads in groups of %d, synced (median of %d interleaved rounds):\n", cfg.Entries, cfg.PayloadBytes, cfg.Group, cfg.Rounds)
	fmt.Fprintf(out, "  raw Badger WriteBatch + Sync, %d-byte values:  %10.0f entries/s\n", cfg.PayloadBytes, raw)
	fmt.Fprintf(out, "  raw Badger WriteBatch + Sync, %d-byte values:  %10.0f entries/s\n", recordBytes, rawSame)
	fmt.Fprintf(out, "  cairn Append (badgerstore):                    %10.0f entries/s   ratio %.2f (vs %d-byte raw), %.2f (vs %d-byte raw)\n",
		grouped, grouped/raw, cfg.PayloadBytes, grouped/rawSame, recordBytes)

	single, err := benchConcurrent(ctx, filepath.Join(dir, "single"), 1, cfg, payload)
	if err != nil {
		return fmt.Errorf("single appender: %w", err)
	}
	many, err := benchConcurrent(ctx, filepath.Join(dir, "many"), cfg.Concurrency, cfg, payload)
	if err != nil {
		return fmt.Errorf("concurrent appenders: %w", err)
	}
	fmt.Fprintf(out, "single-entry appends, one sync each (1 appender): %10.0f entries/s\n", single)
	fmt.Fprintf(out, "single-entry appends, %d concurrent appenders:    %10.0f entries/s   ratio %.1fx (group commit)\n", cfg.Concurrency, many, many/single)

	n, rate, err := benchVerify(ctx, filepath.Join(dir, "verify"), cfg, payload)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	fmt.Fprintf(out, "verify %d entries (hashes, chain, Merkle, checkpoint): %10.0f entries/s\n", n, rate)
	return nil
}

// benchRawBadger is the reference: the same number of payloads written with
// a Badger WriteBatch per group and one Sync per group, no hashing.
func benchRawBadger(dir string, cfg journalBench, payload []byte) (float64, error) {
	// The same Badger options the store uses, so the ratio isolates Cairn's own work.
	sc := badgerstore.DefaultConfig(dir)
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil).WithSyncWrites(false).WithDetectConflicts(false).
		WithMetricsEnabled(false).WithNumVersionsToKeep(1).WithValueThreshold(sc.ValueThreshold).
		WithMemTableSize(sc.MemTableSize).WithNumMemtables(sc.NumMemtables).WithBlockCacheSize(sc.BlockCacheSize))
	if err != nil {
		return 0, err
	}
	defer db.Close()
	key := make([]byte, 13)
	key[0] = 'E'
	start := time.Now()
	for done := 0; done < cfg.Entries; done += cfg.Group {
		wb := db.NewWriteBatch()
		for i := 0; i < cfg.Group; i++ {
			binary.BigEndian.PutUint64(key[5:], uint64(done+i+1))
			if err := wb.Set(append([]byte(nil), key...), payload); err != nil {
				return 0, err
			}
		}
		if err := wb.Flush(); err != nil {
			return 0, err
		}
		if err := db.Sync(); err != nil {
			return 0, err
		}
	}
	return float64(cfg.Entries) / time.Since(start).Seconds(), nil
}

func openBenchStore(dir string) (*badgerstore.Store, error) {
	return badgerstore.Open(badgerstore.DefaultConfig(dir))
}

func benchGrouped(ctx context.Context, dir string, cfg journalBench, payload []byte) (float64, error) {
	s, err := openBenchStore(dir)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	batch := make([]journal.Entry, cfg.Group)
	start := time.Now()
	for done := 0; done < cfg.Entries; done += cfg.Group {
		for i := range batch {
			batch[i] = journal.Entry{Kind: journal.KindAppEvent, Payload: payload}
		}
		if _, err := s.Append(ctx, "bench", batch); err != nil {
			return 0, err
		}
	}
	return float64(cfg.Entries) / time.Since(start).Seconds(), nil
}

// benchConcurrent runs workers that each append one entry per call for the
// configured window.
func benchConcurrent(ctx context.Context, dir string, workers int, cfg journalBench, payload []byte) (float64, error) {
	s, err := openBenchStore(dir)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	var count atomic.Int64
	var firstErr atomic.Value
	deadline := time.Now().Add(cfg.Window)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if _, err := s.Append(ctx, "bench", []journal.Entry{{Kind: journal.KindAppEvent, Payload: payload}}); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				count.Add(1)
			}
		}()
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return 0, err
	}
	return float64(count.Load()) / time.Since(start).Seconds(), nil
}

func benchVerify(ctx context.Context, dir string, cfg journalBench, payload []byte) (uint64, float64, error) {
	s, err := openBenchStore(dir)
	if err != nil {
		return 0, 0, err
	}
	batch := make([]journal.Entry, cfg.Group)
	for done := 0; done < cfg.VerifyEntries; done += cfg.Group {
		for i := range batch {
			batch[i] = journal.Entry{Kind: journal.KindAppEvent, Payload: payload}
		}
		if _, err := s.Append(ctx, "bench", batch); err != nil {
			s.Close()
			return 0, 0, err
		}
	}
	if err := s.Close(); err != nil {
		return 0, 0, err
	}
	rcfg := badgerstore.DefaultConfig(dir)
	rcfg.ReadOnly = true
	r, err := badgerstore.Open(rcfg)
	if err != nil {
		return 0, 0, err
	}
	defer r.Close()
	start := time.Now()
	res, err := journal.VerifyStream(ctx, r, "bench", r.VerifierKey(), false, nil)
	if err != nil {
		return 0, 0, err
	}
	return res.Entries, float64(res.Entries) / time.Since(start).Seconds(), nil
}
