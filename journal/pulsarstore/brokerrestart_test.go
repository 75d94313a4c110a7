package pulsarstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairnlog/cairn/fixtures"
	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/journal/journaltest"
)

// TestBrokerCrashMidAppend kills the broker (SIGKILL) while four appenders
// run, and restarts it. First with the default ack timeout: appends wait
// and complete after the restart. Then with an ack timeout shorter than
// the outage: appends fail with ErrStoreFailed, AcquireStream recovers the
// stream from the topic, and the failed batches are sent again. Either way
// no acknowledged entry is missing, none is there twice, the chain has no
// hole, and a node rebuilding its index from scratch gets the same head.
func TestBrokerCrashMidAppend(t *testing.T) {
	t.Parallel()
	p := fixtures.StartPulsar(t, fixtures.PulsarOptions{})
	key := testKeyFile(t)
	for _, tc := range []struct {
		stream     string
		ackTimeout time.Duration
		down       time.Duration
		wantFail   bool
	}{
		{"resume", 2 * time.Minute, 500 * time.Millisecond, false},
		{"fail", 2 * time.Second, 4 * time.Second, true},
	} {
		t.Run(tc.stream, func(t *testing.T) {
			cfg := testConfig(t, p, filepath.Join(t.TempDir(), "a"), key)
			cfg.AckTimeout = tc.ackTimeout
			s := openStore(t, cfg)
			crashDuringAppends(t, p, s, tc.stream, tc.down, tc.wantFail)
			head, err := s.Head(testCtx(t), tc.stream)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			cfg.Dir = filepath.Join(t.TempDir(), "fresh")
			s = openStore(t, cfg)
			if h, err := s.Head(testCtx(t), tc.stream); err != nil || h != head {
				t.Fatalf("head rebuilt from the topic %+v (%v), want %+v", h, err, head)
			}
		})
	}
}

func crashDuringAppends(t *testing.T, p *fixtures.Pulsar, s *Store, stream string, down time.Duration, wantFail bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	mustAppend(t, s, stream, app("warmup", 1))
	const workers = 4
	var mu sync.Mutex
	acked := map[string]uint64{} // "producer/n" -> seq
	var failed [][]journal.Entry
	var total, afterRestart atomic.Int64
	restarted := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			producer := fmt.Sprintf("w%d", w)
			for n := uint64(1); ; n += 4 {
				select {
				case <-restarted:
					if afterRestart.Load() >= 400 {
						return
					}
				default:
				}
				es := []journal.Entry{app(producer, n), app(producer, n+1), app(producer, n+2), app(producer, n+3)}
				res, err := s.Append(ctx, stream, es)
				if err != nil {
					if !errors.Is(err, journal.ErrStoreFailed) {
						t.Errorf("an append failed without poisoning the stream: %v", err)
					}
					mu.Lock()
					failed = append(failed, []journal.Entry{app(producer, n), app(producer, n+1), app(producer, n+2), app(producer, n+3)})
					mu.Unlock()
					return
				}
				mu.Lock()
				for i, r := range res {
					if r.Duplicate {
						t.Errorf("fresh entry %s/%d reported as duplicate of %d", producer, n+uint64(i), r.Seq)
					}
					acked[fmt.Sprintf("%s/%d", producer, n+uint64(i))] = r.Seq
				}
				mu.Unlock()
				total.Add(4)
				select {
				case <-restarted:
					afterRestart.Add(4)
				default:
				}
			}
		}(w)
	}
	for total.Load() < 600 {
		time.Sleep(10 * time.Millisecond)
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	atKill := total.Load()
	time.Sleep(down)
	started := time.Now()
	if err := p.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("broker killed after %d acknowledged entries, down %v, restarted in %v", atKill, down, time.Since(started).Round(time.Millisecond))
	close(restarted)
	wg.Wait()
	t.Logf("%d entries acknowledged in all, %d after the restart; %d appenders failed", total.Load(), afterRestart.Load(), len(failed))
	if (len(failed) > 0) != wantFail {
		t.Fatalf("%d appenders failed, want failures: %v", len(failed), wantFail)
	}
	if wantFail {
		if s.Writing(stream) {
			t.Fatal("a failed writer still claims the stream")
		}
		if _, err := s.Append(ctx, stream, []journal.Entry{app("x", 1)}); !errors.Is(err, journal.ErrStoreFailed) {
			t.Fatalf("append to a poisoned stream: %v", err)
		}
		if _, err := s.AcquireStream(ctx, stream); err != nil {
			t.Fatalf("recover the stream: %v", err)
		}
		// What failed may or may not have reached the topic: sending it
		// again gives each entry exactly one seq.
		for _, es := range failed {
			res := mustAppend(t, s, stream, es...)
			for i, r := range res {
				acked[fmt.Sprintf("%s/%d", es[i].ProducerID, es[i].ProducerSeq)] = r.Seq
			}
		}
	}
	res := mustAppend(t, s, stream, app("w0", 1), app("after", 1))
	if res[0] != (journal.AppendResult{Seq: acked["w0/1"], Duplicate: true}) || res[1].Duplicate {
		t.Fatalf("append after the restart: %+v", res)
	}
	head, err := s.Head(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	recs := journaltest.ReadAll(t, s, stream)
	checkChain(t, recs)
	if uint64(len(recs)) != head.Seq {
		t.Fatalf("read %d entries, head says %d", len(recs), head.Seq)
	}
	seen := map[string]uint64{}
	for _, r := range recs {
		k := fmt.Sprintf("%s/%d", r.ProducerID, r.ProducerSeq)
		if _, dup := seen[k]; dup {
			t.Fatalf("%s is in the journal twice", k)
		}
		seen[k] = r.Seq
	}
	for k, q := range acked {
		if seen[k] != q {
			t.Fatalf("%s was acknowledged at seq %d, the journal has it at %d", k, q, seen[k])
		}
	}
}

// TestTransientTopicError: the broker's answers while it or its bookie is
// still starting are retried; anything else is not.
func TestTransientTopicError(t *testing.T) {
	for msg, want := range map[string]bool{
		"server error: PersistenceError: org.apache.bookkeeper.mledger.ManagedLedgerException: Not enough non-faulty bookies available": true,
		"server error: ServiceNotReady: Namespace bundle is being unloaded":                                                             true,
		"server error: TopicNotFound: Topic does not exist":                                                                             false,
		"server error: AuthorizationError: not allowed":                                                                                 false,
	} {
		if got := transientTopicError(errors.New(msg)); got != want {
			t.Errorf("%q: transient %v, want %v", msg, got, want)
		}
	}
}
