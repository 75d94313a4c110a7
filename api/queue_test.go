package api_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	cairnv1 "github.com/cairnlog/cairn/api/cairnv1"
	"github.com/cairnlog/cairn/api/client"
)

// TestQueueOverGRPC runs 8 concurrent gRPC consumers over one group; some
// abandon their leases (a crashed worker), which expire and come back.
// Every entry ends acked exactly once and no key is ever in flight twice.
func TestQueueOverGRPC(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil, "", "")
	const n, keys = 5000, 100
	appendApp(t, ts.store, "work", n, func(i int) string { return fmt.Sprint("key-", i%keys) })
	c, err := client.Dial(ts.grpcAddr, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var mu sync.Mutex
	acked := map[uint64]int{}
	type held struct {
		seq      uint64
		deadline time.Time
	}
	inFlight := map[string]held{} // key -> the lease a consumer holds
	lastAcked := map[string]uint64{}
	var failures []string
	fail := func(f string, a ...any) { mu.Lock(); failures = append(failures, fmt.Sprintf(f, a...)); mu.Unlock() }

	group := c.Group("work", "g")
	group.LeaseTime = time.Second
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for {
				mu.Lock()
				done := len(acked) == n
				mu.Unlock()
				if done || ctx.Err() != nil {
					return
				}
				leases, err := group.Lease(ctx, 50, time.Second)
				resp := &cairnv1.LeaseResponse{Leases: leases}
				if err != nil {
					if ctx.Err() == nil {
						fail("lease: %v", err)
					}
					return
				}
				if len(resp.Leases) == 0 {
					continue
				}
				mu.Lock()
				for _, l := range resp.Leases {
					k := string(l.Entry.Key)
					// A lease abandoned by a "crashed" consumer ends at its deadline.
					if h, busy := inFlight[k]; busy && time.Now().Before(h.deadline) {
						failures = append(failures, fmt.Sprintf("key %s leased at seq %d while seq %d is in flight until %v", k, l.Token.SequenceId, h.seq, h.deadline))
					}
					inFlight[k] = held{l.Token.SequenceId, l.Deadline.AsTime()}
				}
				mu.Unlock()
				if rng.IntN(100) < 3 {
					// Crash: walk away; the leases expire at their deadline.
					continue
				}
				mu.Lock()
				for _, l := range resp.Leases {
					k := string(l.Entry.Key)
					delete(inFlight, k)
					if l.Token.SequenceId <= lastAcked[k] {
						failures = append(failures, fmt.Sprintf("key %s: seq %d after %d", k, l.Token.SequenceId, lastAcked[k]))
					}
				}
				mu.Unlock()
				settled, err := group.Ack(ctx, resp.Leases...)
				ar := &cairnv1.AckResponse{Settled: settled}
				if err != nil {
					fail("ack: %v", err)
					return
				}
				mu.Lock()
				rejected := map[uint64]bool{}
				for _, r := range ar.Settled.Rejected {
					rejected[r.Token.SequenceId] = true
				}
				for _, l := range resp.Leases {
					if !rejected[l.Token.SequenceId] {
						acked[l.Token.SequenceId]++
						lastAcked[string(l.Entry.Key)] = l.Token.SequenceId
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d failures, first: %s", len(failures), failures[0])
	}
	if len(acked) != n {
		t.Fatalf("acked %d distinct entries, want %d", len(acked), n)
	}
	for seq, k := range acked {
		if k != 1 {
			t.Fatalf("seq %d acked %d times", seq, k)
		}
	}
	g, err := c.Queue.GetGroup(context.Background(), &cairnv1.GetGroupRequest{Stream: "work", Group: "g"})
	if err != nil || g.Group.Acked != n || g.Group.InFlight != 0 || g.Group.Pending != 0 {
		t.Fatalf("group status %v, %v", g, err)
	}
}
