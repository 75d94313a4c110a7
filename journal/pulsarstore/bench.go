package pulsarstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/cairnlog/cairn/journal"
)

// BenchConfig describes an append throughput comparison between the store
// and a raw pulsar-client-go producer on the same broker, in one run.
type BenchConfig struct {
	// Store configures the store under test (its Dir should be fresh).
	Store Config
	// Entries per side per round (default 10000), Rounds measured (default
	// 6; the order of the two sides alternates), WarmupRounds before them
	// (default 3).
	Entries, Rounds, WarmupRounds int
	// PayloadBytes is each entry's payload size (default 256).
	PayloadBytes int
	// Workers append concurrently (default 16), Batch entries per call
	// (default 8). The raw side runs the same workers, each sending Batch
	// messages asynchronously and waiting for all their acks.
	Workers, Batch int
}

// BenchResult is the outcome of CompareThroughput.
type BenchResult struct {
	Entries      int       // per side, all rounds
	MessageBytes int       // size of one message payload, on both sides
	StoreRate    float64   // entries per second through Store.Append, all rounds
	RawRate      float64   // messages per second through a raw producer, all rounds
	Ratio        float64   // median over rounds of store rate / raw rate
	RoundRatios  []float64 // per round, in order
}

func (r BenchResult) String() string {
	return fmt.Sprintf("%d entries of %d bytes: pulsarstore %.0f/s, raw producer %.0f/s, ratio %.2f (median of rounds %.2f)",
		r.Entries, r.MessageBytes, r.StoreRate, r.RawRate, r.Ratio, r.RoundRatios)
}

// CompareThroughput measures Append throughput against a raw producer that
// sends the same payload sizes with deduplication on and batching off
// (what the store does underneath), alternating the two in rounds.
func CompareThroughput(ctx context.Context, bc BenchConfig) (BenchResult, error) {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&bc.Entries, 10000)
	def(&bc.Rounds, 6)
	def(&bc.WarmupRounds, 3)
	def(&bc.PayloadBytes, 256)
	def(&bc.Workers, 16)
	def(&bc.Batch, 8)
	s, err := Open(ctx, bc.Store)
	if err != nil {
		return BenchResult{}, err
	}
	defer s.Close()
	run := time.Now().UnixNano()
	stream := fmt.Sprintf("bench-store-%d", run)
	if _, err := s.AcquireStream(ctx, stream); err != nil {
		return BenchResult{}, err
	}
	payload := bytes.Repeat([]byte{'x'}, bc.PayloadBytes)
	sample := journal.Entry{Stream: stream, Seq: 1, Kind: journal.KindAppEvent, ProducerID: "bench-w00", ProducerSeq: 1, Payload: payload}
	res := BenchResult{MessageBytes: journal.EncodedSize(&sample), Entries: bc.Entries * bc.Rounds}
	raw, err := newRawBench(s, fmt.Sprintf("%sbench-raw-%d", s.cfg.TopicPrefix, run), res.MessageBytes)
	if err != nil {
		return res, err
	}
	defer raw.close()
	var next atomic.Uint64
	storeRound := func(bc BenchConfig) (time.Duration, error) {
		return workers(bc, func(w int) error {
			es := make([]journal.Entry, bc.Batch)
			for i := range es {
				es[i] = journal.Entry{Kind: journal.KindAppEvent, ProducerID: fmt.Sprintf("bench-w%02d", w), ProducerSeq: next.Add(1), Payload: payload}
			}
			_, err := s.Append(ctx, stream, es)
			return err
		})
	}
	rawRound := func(bc BenchConfig) (time.Duration, error) {
		return workers(bc, func(int) error { return raw.sendBatch(ctx, bc.Batch) })
	}
	// Warm up both (connections, the broker's JIT: its throughput climbs
	// for tens of thousands of messages), alternating, unmeasured.
	for i := 0; i < bc.WarmupRounds; i++ {
		if _, err := storeRound(bc); err != nil {
			return res, err
		}
		if _, err := rawRound(bc); err != nil {
			return res, err
		}
	}
	var tStore, tRaw time.Duration
	for round := 0; round < bc.Rounds; round++ {
		first, second := storeRound, rawRound
		if round%2 == 1 {
			first, second = rawRound, storeRound
		}
		d1, err := first(bc)
		if err != nil {
			return res, err
		}
		d2, err := second(bc)
		if err != nil {
			return res, err
		}
		if round%2 == 1 {
			d1, d2 = d2, d1
		}
		tStore, tRaw = tStore+d1, tRaw+d2
		res.RoundRatios = append(res.RoundRatios, d2.Seconds()/d1.Seconds())
	}
	res.StoreRate = float64(res.Entries) / tStore.Seconds()
	res.RawRate = float64(res.Entries) / tRaw.Seconds()
	sorted := append([]float64(nil), res.RoundRatios...)
	sort.Float64s(sorted)
	if n := len(sorted); n%2 == 1 {
		res.Ratio = sorted[n/2]
	} else {
		res.Ratio = (sorted[n/2-1] + sorted[n/2]) / 2
	}
	return res, nil
}

// workers runs bc.Entries/bc.Batch calls of fn over bc.Workers goroutines
// and returns the wall time.
func workers(bc BenchConfig, fn func(worker int) error) (time.Duration, error) {
	calls := int64(bc.Entries / bc.Batch)
	var taken atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, bc.Workers)
	start := time.Now()
	for w := 0; w < bc.Workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for taken.Add(1) <= calls {
				if err := fn(w); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	d := time.Since(start)
	close(errs)
	return d, errors.Join(func() []error {
		var out []error
		for e := range errs {
			out = append(out, e)
		}
		return out
	}()...)
}

// rawBench is the reference: one producer like the store's (named,
// explicit sequence ids, batching off, no send timeout).
type rawBench struct {
	client pulsar.Client
	prod   pulsar.Producer
	mu     sync.Mutex // sequence ids must reach the producer in order
	seq    int64
	msg    []byte
}

func newRawBench(s *Store, topic string, size int) (*rawBench, error) {
	full := s.cfg.EntriesTopic(topic[len(s.cfg.TopicPrefix):])
	if err := s.admin.ensureTopic(context.Background(), full); err != nil {
		return nil, err
	}
	client, err := s.newClient(0)
	if err != nil {
		return nil, err
	}
	prod, err := client.CreateProducer(pulsar.ProducerOptions{
		Topic: full, Name: "bench-raw", DisableBatching: true, SendTimeout: -1,
		MaxPendingMessages: s.cfg.MaxPendingMessages, ProducerAccessMode: pulsar.ProducerAccessModeExclusive,
	})
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("raw producer on %s: %w", full, err)
	}
	return &rawBench{client: client, prod: prod, msg: bytes.Repeat([]byte{'r'}, size)}, nil
}

func (r *rawBench) sendBatch(ctx context.Context, n int) error {
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	wg.Add(n)
	cb := func(_ pulsar.MessageID, _ *pulsar.ProducerMessage, err error) {
		if err != nil {
			failed.CompareAndSwap(nil, &err)
		}
		wg.Done()
	}
	r.mu.Lock()
	for i := 0; i < n; i++ {
		r.seq++
		seq := r.seq
		r.prod.SendAsync(ctx, &pulsar.ProducerMessage{Payload: r.msg, SequenceID: &seq, EventTime: time.Now()}, cb)
	}
	r.mu.Unlock()
	wg.Wait()
	if p := failed.Load(); p != nil {
		return *p
	}
	return nil
}

func (r *rawBench) close() {
	r.prod.Close()
	r.client.Close()
}
