package queue

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairnlog/cairn/journal"
)

// TestConcurrentConsumersWithCrashesAndRestarts runs 8 consumers over 100k
// keyed app_event entries (500 keys), half appended before they start and
// half while they run. Consumers sometimes crash (abandon their leases) or
// nack; the Manager is closed and reopened on the same state three times.
// A fake clock moves only while no consumer holds a live lease, so the only
// leases that ever expire are abandoned ones, and the test knows exactly
// which entries are in flight at any time.
func TestConcurrentConsumersWithCrashesAndRestarts(t *testing.T) {
	total, keys := 100_000, 500
	if testing.Short() {
		total = 10_000
	}
	const consumers = 8
	clk := newFakeClock()
	e := newEnv(t, clk.opts(Options{MaxAttempts: 1000}))
	rng := rand.New(rand.NewPCG(1, 2))

	var batches [][]journal.Entry
	for i := 0; i < total; {
		var b []journal.Entry
		for j := 0; j < 2000 && i < total; j++ {
			if j%97 == 0 {
				b = append(b, other(journal.KindHeartbeat)) // not delivered
			}
			b = append(b, appEvent(fmt.Sprintf("k%03d", rng.IntN(keys))))
			i++
		}
		batches = append(batches, b)
	}
	var (
		mu          sync.Mutex // guards everything below
		deliverable = map[uint64]bool{}
		holder      = map[string]uint64{} // key -> seq leased and not yet finished
		lastAcked   = map[string]uint64{}
		acked       = map[uint64]bool{}
		abandoned   []Leased
		crashes     int
		nacks       int
	)
	appendBatch := func(b []journal.Entry) {
		res, err := e.store.Append(bg(), "s", b)
		if err != nil {
			t.Error(err)
			return
		}
		mu.Lock()
		for i, r := range res {
			if b[i].Kind == journal.KindAppEvent {
				deliverable[r.Seq] = true
			}
		}
		mu.Unlock()
	}
	half := len(batches) / 2
	for _, b := range batches[:half] {
		appendBatch(b)
	}

	// gate: consumers hold it shared from Lease until their acks are done;
	// the controller holds it exclusively to move the clock or restart.
	var gate sync.RWMutex
	var ackedCount atomic.Int64
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	var wg sync.WaitGroup

	wg.Add(1)
	go func() { // producer: the second half arrives while consumers run
		defer wg.Done()
		for _, b := range batches[half:] {
			appendBatch(b)
			time.Sleep(2 * time.Millisecond)
		}
	}()

	for c := 0; c < consumers; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 99))
			for ackedCount.Load() < int64(total) && ctx.Err() == nil {
				gate.RLock()
				m := e.m
				ls, err := m.Lease(ctx, "s", "g", 1+rng.IntN(200), 0, 10*time.Millisecond)
				if err != nil {
					gate.RUnlock()
					if ctx.Err() == nil {
						t.Errorf("consumer %d: lease: %v", c, err)
					}
					return
				}
				mu.Lock()
				for _, l := range ls {
					k, seq := string(l.Record.Key), l.Token.SequenceID
					if !deliverable[seq] || l.Record.Kind != journal.KindAppEvent {
						t.Errorf("leased seq %d (%s), which is not a delivered kind", seq, l.Record.Kind)
					}
					if acked[seq] {
						t.Errorf("seq %d leased again after it was acked", seq)
					}
					if h, ok := holder[k]; ok {
						t.Errorf("key %s: seq %d leased while seq %d is in flight", k, seq, h)
					}
					holder[k] = seq
				}
				mu.Unlock()
				if len(ls) == 0 {
					gate.RUnlock()
					continue
				}
				switch p := rng.IntN(100); {
				case p < 3: // crash: walk away from every lease
					mu.Lock()
					abandoned = append(abandoned, ls...)
					crashes++
					mu.Unlock()
				case p < 6: // nack some, ack the rest
					n := 1 + rng.IntN(len(ls))
					mu.Lock() // held across the call so the bookkeeping is in the manager's order
					r, err := m.Nack(ctx, "s", "g", tokens(ls[:n]), time.Duration(rng.IntN(2))*time.Second)
					if err != nil || r.Done != n {
						t.Errorf("nack = %+v, %v", r, err)
					}
					for _, l := range ls[:n] {
						delete(holder, string(l.Record.Key))
					}
					nacks++
					mu.Unlock()
					ackAll(t, m, ls[n:], &mu, holder, lastAcked, acked, &ackedCount)
				default:
					ackAll(t, m, ls, &mu, holder, lastAcked, acked, &ackedCount)
				}
				gate.RUnlock()
			}
		}(c)
	}

	// Controller: move the clock (abandoned leases expire) and restart the
	// Manager at 25%, 50% and 75% progress.
	restarts := 0
	for ackedCount.Load() < int64(total) {
		if ctx.Err() != nil {
			t.Fatalf("timed out with %d of %d acked", ackedCount.Load(), total)
		}
		time.Sleep(15 * time.Millisecond)
		gate.Lock()
		clk.Advance(DefaultLeaseTime + time.Second)
		now := clk.Now()
		mu.Lock()
		kept := abandoned[:0]
		for _, l := range abandoned {
			if l.Deadline.After(now) {
				kept = append(kept, l)
			} else if holder[string(l.Record.Key)] == l.Token.SequenceID {
				delete(holder, string(l.Record.Key))
			}
		}
		abandoned = kept
		mu.Unlock()
		if restarts < 3 && ackedCount.Load() >= int64(total)*int64(restarts+1)/4 {
			e.restart()
			restarts++
		}
		gate.Unlock()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	mu.Lock()
	defer mu.Unlock()
	if len(acked) != total || len(deliverable) != total {
		t.Fatalf("acked %d distinct entries of %d deliverable, want %d", len(acked), len(deliverable), total)
	}
	for seq := range deliverable {
		if !acked[seq] {
			t.Fatalf("seq %d was never acked", seq)
		}
	}
	st := e.status("g")
	wantStatus(t, st, 0, 0, uint64(total), 0)
	if st.AckFloor != st.HeadSeq+1 || st.NextSeq != st.HeadSeq+1 {
		t.Fatalf("status %+v: want floor and next at head+1", st)
	}
	if restarts < 3 || crashes == 0 || nacks == 0 {
		t.Fatalf("the run did not exercise everything: %d restarts, %d crashes, %d nacks", restarts, crashes, nacks)
	}
	e.restart()
	if n := e.countKeys("q/e/"); n != 0 {
		t.Fatalf("%d entry keys left after everything was acked", n)
	}
	t.Logf("%d entries, %d consumers: %d crashes, %d nacks, %d restarts", total, consumers, crashes, nacks, restarts)
}

// ackAll acks ls and checks the acks against the test's bookkeeping. The
// test mutex is held across the call, so no other consumer's lease can be
// checked between the manager releasing a key and the books saying so.
func ackAll(t *testing.T, m *Manager, ls []Leased, mu *sync.Mutex, holder, lastAcked map[string]uint64, acked map[uint64]bool, count *atomic.Int64) {
	if len(ls) == 0 {
		return
	}
	mu.Lock()
	defer mu.Unlock()
	r, err := m.Ack(context.Background(), "s", "g", tokens(ls))
	if err != nil || r.Done != len(ls) || len(r.Rejected) != 0 {
		t.Errorf("ack = %+v, %v", r, err)
		return
	}
	for _, l := range ls {
		k, seq := string(l.Record.Key), l.Token.SequenceID
		if seq <= lastAcked[k] {
			t.Errorf("key %s: seq %d acked after seq %d", k, seq, lastAcked[k])
		}
		lastAcked[k] = seq
		if acked[seq] {
			t.Errorf("seq %d acked twice", seq)
		}
		acked[seq] = true
		if holder[k] != seq {
			t.Errorf("key %s: acked seq %d but the books say %d is in flight", k, seq, holder[k])
		}
		delete(holder, k)
	}
	count.Add(int64(len(ls)))
}
