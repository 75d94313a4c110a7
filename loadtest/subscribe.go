package main

// subscribe: how fast a Go client on loopback receives a stream through the
// gRPC Subscribe call, against reading the same entries from the journal
// in-process (replay.Cursor, the same reader Subscribe uses) in the same run.
// Also the latency of a REST page of 1000 entries.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/cairnlog/cairn/api"
	cairnv1 "github.com/cairnlog/cairn/api/cairnv1"
	"github.com/cairnlog/cairn/api/client"
	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/journal/badgerstore"
	"github.com/cairnlog/cairn/replay"
	"github.com/cairnlog/cairn/replay/queue"
	"github.com/cairnlog/cairn/replay/state"
)

type subscribeBench struct {
	Entries    int
	Rounds     int
	RESTPages  int
	PayloadLen int
	Dir        string
	Profile    string
}

func runSubscribeCommand(ctx context.Context, log *slog.Logger, args []string, out io.Writer) error {
	cfg := subscribeBench{Entries: 1_000_000, Rounds: 3, RESTPages: 300, PayloadLen: 120}
	fs := flag.NewFlagSet("subscribe", flag.ExitOnError)
	fs.IntVar(&cfg.Entries, "entries", cfg.Entries, "entries in the journal")
	fs.IntVar(&cfg.Rounds, "rounds", cfg.Rounds, "interleaved rounds (median reported)")
	fs.IntVar(&cfg.RESTPages, "rest-pages", cfg.RESTPages, "REST pages of 1000 entries to time")
	fs.IntVar(&cfg.PayloadLen, "payload", cfg.PayloadLen, "payload bytes per entry")
	fs.StringVar(&cfg.Dir, "dir", "", "scratch dir (default: a temp dir, removed after)")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the timed rounds to this file")
	_ = fs.Parse(args)
	cfg.Profile = *profile
	return runSubscribeBench(ctx, log, cfg, out)
}

func runSubscribeBench(ctx context.Context, log *slog.Logger, cfg subscribeBench, out io.Writer) error {
	dir := cfg.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "cairn-subscribe-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	store, err := badgerstore.Open(badgerstore.DefaultConfig(filepath.Join(dir, "journal")))
	if err != nil {
		return err
	}
	defer store.Close()
	st, err := state.Open(filepath.Join(dir, "state"), nil, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	q := queue.NewManager(store, st, queue.Options{})
	defer q.Close()

	const stream = "bench"
	log.Info("filling the journal", "entries", cfg.Entries)
	payload := make([]byte, cfg.PayloadLen)
	for i := range payload {
		payload[i] = 'a' + byte(i%26)
	}
	batch := make([]journal.Entry, 0, 5000)
	for i := 1; i <= cfg.Entries; i++ {
		batch = append(batch, journal.Entry{Kind: journal.KindAppEvent, ProducerID: "bench", ProducerSeq: uint64(i),
			Key: []byte(fmt.Sprintf("k%06d", i%100000)), Payload: payload})
		if len(batch) == cap(batch) || i == cfg.Entries {
			if _, err := store.Append(ctx, stream, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}

	srv, err := api.New(store, replay.NewCheckpoints(store, st), q, api.Config{GRPCListen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0"})
	if err != nil {
		return err
	}
	go srv.Serve()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Stop(sctx)
	}()
	c, err := client.Dial(srv.GRPCAddr(), client.Options{})
	if err != nil {
		return err
	}
	defer c.Close()

	if cfg.Profile != "" {
		f, err := os.Create(cfg.Profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var direct, grpcRates []float64
	for round := 1; round <= cfg.Rounds; round++ {
		d, err := timeCursor(ctx, store, stream, cfg.Entries)
		if err != nil {
			return err
		}
		g, err := timeSubscribe(ctx, c, stream, cfg.Entries)
		if err != nil {
			return err
		}
		direct, grpcRates = append(direct, d), append(grpcRates, g)
		log.Info("round", "n", round, "in_process_per_s", int(d), "grpc_per_s", int(g))
	}
	lat, err := timeRESTPages(ctx, "http://"+srv.HTTPAddr(), stream, cfg.Entries, cfg.RESTPages)
	if err != nil {
		return err
	}
	md, mg := median(direct), median(grpcRates)
	fmt.Fprintf(out, "subscribe: %d entries of ~%d payload bytes, %d interleaved rounds (median)\n", cfg.Entries, cfg.PayloadLen, cfg.Rounds)
	fmt.Fprintf(out, "  in-process cursor (reference): %10.0f entries/s\n", md)
	fmt.Fprintf(out, "  gRPC Subscribe, Go client:     %10.0f entries/s  ratio %.2f (goal >= 300000/s and >= 0.5)\n", mg, mg/md)
	fmt.Fprintf(out, "  REST page of 1000 entries:     p50 %v  p99 %v  (%d pages)\n", lat[len(lat)/2].Round(10*time.Microsecond), lat[len(lat)*99/100].Round(10*time.Microsecond), len(lat))
	return nil
}

func timeCursor(ctx context.Context, store journal.Store, stream string, n int) (float64, error) {
	start := time.Now()
	cur, err := replay.NewCursor(store, stream, replay.CursorOptions{From: 1, PageSize: 1000})
	if err != nil {
		return 0, err
	}
	got := 0
	for {
		recs, err := cur.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
		got += len(recs)
	}
	if got != n {
		return 0, fmt.Errorf("cursor read %d entries, want %d", got, n)
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

func timeSubscribe(ctx context.Context, c *client.Client, stream string, n int) (float64, error) {
	start := time.Now()
	sub, err := c.Replay.Subscribe(ctx, &cairnv1.SubscribeRequest{Stream: stream, FromSeq: 1, NoFollow: true})
	if err != nil {
		return 0, err
	}
	got := 0
	next := uint64(1)
	for {
		resp, err := sub.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
		for _, e := range resp.Entries {
			if e.Seq != next {
				return 0, fmt.Errorf("subscribe delivered seq %d, want %d", e.Seq, next)
			}
			next++
		}
		got += len(resp.Entries)
	}
	if got != n {
		return 0, fmt.Errorf("subscribe delivered %d entries, want %d", got, n)
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

func timeRESTPages(ctx context.Context, base, stream string, n, pages int) ([]time.Duration, error) {
	var lat []time.Duration
	for i := 0; i < pages; i++ {
		from := 1 + (i*1000)%max(1, n-1000)
		req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/v1/streams/%s/entries?from_seq=%d&limit=1000", base, stream, from), nil)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			return nil, fmt.Errorf("REST page from %d: status %d, %v", from, resp.StatusCode, err)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	return lat, nil
}
