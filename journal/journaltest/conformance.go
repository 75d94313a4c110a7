package journaltest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cairnlog/cairn/journal"
)

// Opener opens the store called name, creating it when new. Opening the
// same name again (after Close) must give back the same journal.
type Opener func(t *testing.T, name string) journal.Store

// RunConformance runs the whole suite against a backend.
func RunConformance(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"AppendChainsAndRoundTrips", testAppendChains},
		{"GapFreeAcrossCalls", testGapFree},
		{"StreamsAreIndependent", testStreams},
		{"DedupBySourcePosition", testDedupPosition},
		{"DedupByProducer", testDedupProducer},
		{"DurableAcrossReopen", testReopen},
		{"ConcurrentAppenders", testConcurrent},
		{"InclusionAndConsistencyProofs", testProofs},
		{"SignedCheckpoints", testCheckpoints},
		{"ReadPastHeadAndWait", testReadPastHead},
		{"BadInput", testBadInput},
		{"Deterministic", testDeterministic},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// SampleEntry returns a deterministic entry exercising every hashed field.
func SampleEntry(i int) journal.Entry {
	return journal.Entry{
		Kind:              journal.KindChange,
		SourceID:          "pg-main",
		SourcePosition:    pos(uint64(i)),
		TxID:              fmt.Sprintf("tx-%d", i/3),
		CommitTime:        time.Date(2026, 11, 26, 3, 0, 0, i*1000, time.UTC),
		Table:             "public.orders",
		Op:                journal.Op(1 + i%3),
		Key:               []byte(fmt.Sprintf(`{"id":%d}`, i)),
		Before:            []byte(fmt.Sprintf("before-%d", i)),
		After:             []byte(fmt.Sprintf("after-%d", i)),
		SchemaFingerprint: []byte{0xde, 0xad, byte(i)},
		Payload:           bytes.Repeat([]byte{byte(i)}, i%7),
		Metadata:          map[string]string{"b": "2", "a": fmt.Sprint(i)},
	}
}

func pos(n uint64) []byte {
	b := make([]byte, 8)
	for i := 7; i >= 0; i-- {
		b[i] = byte(n)
		n >>= 8
	}
	return b
}

func appEvent(producer string, n uint64, payload string) journal.Entry {
	return journal.Entry{Kind: journal.KindAppEvent, ProducerID: producer, ProducerSeq: n, Payload: []byte(payload)}
}

func mustAppend(t *testing.T, s journal.Store, stream string, es ...journal.Entry) []journal.AppendResult {
	t.Helper()
	res, err := s.Append(ctx(t), stream, es)
	if err != nil {
		t.Fatalf("append to %s: %v", stream, err)
	}
	if len(res) != len(es) {
		t.Fatalf("append returned %d results for %d entries", len(res), len(es))
	}
	return res
}

// ReadAll reads every durable record of stream in pages (nil for a stream
// that does not exist yet).
func ReadAll(t testing.TB, s journal.Store, stream string) []journal.Record {
	t.Helper()
	var out []journal.Record
	from := uint64(1)
	for {
		recs, err := s.Read(context.Background(), stream, from, 5000)
		if errors.Is(err, journal.ErrUnknownStream) {
			return nil
		}
		if err != nil {
			t.Fatalf("read %s from %d: %v", stream, from, err)
		}
		if len(recs) == 0 {
			return out
		}
		out = append(out, recs...)
		from = recs[len(recs)-1].Seq + 1
	}
}

// checkChain asserts seqs 1..n, links, and hashes recomputed from the entries.
func checkChain(t *testing.T, stream string, recs []journal.Record) {
	t.Helper()
	var prev journal.Hash
	for i, r := range recs {
		if r.Seq != uint64(i+1) {
			t.Fatalf("record %d has seq %d, want %d", i, r.Seq, i+1)
		}
		if r.Stream != stream {
			t.Fatalf("seq %d: stream %q, want %q", r.Seq, r.Stream, stream)
		}
		if r.PrevHash != prev {
			t.Fatalf("seq %d: prev_hash %s, want %s", r.Seq, r.PrevHash, prev)
		}
		b, err := journal.EntryBytes(&r.Entry)
		if err != nil {
			t.Fatal(err)
		}
		if h := journal.HashEntryBytes(b); h != r.Hash {
			t.Fatalf("seq %d: stored hash %s, recomputed %s", r.Seq, r.Hash, h)
		}
		prev = r.Hash
	}
}

func testAppendChains(t *testing.T, open Opener) {
	s := open(t, "chain")
	var in []journal.Entry
	for i := 1; i <= 25; i++ {
		in = append(in, SampleEntry(i))
	}
	in = append(in, journal.Entry{Kind: journal.KindHeartbeat}, appEvent("p", 1, `{"x":1}`))
	res := mustAppend(t, s, "orders", in...)
	for i, r := range res {
		if r.Seq != uint64(i+1) || r.Duplicate {
			t.Fatalf("result %d = %+v, want seq %d, not duplicate", i, r, i+1)
		}
	}
	recs := ReadAll(t, s, "orders")
	if len(recs) != len(in) {
		t.Fatalf("read %d records, appended %d", len(recs), len(in))
	}
	checkChain(t, "orders", recs)
	for i, r := range recs {
		if !sameContent(r.Entry, in[i]) {
			t.Fatalf("seq %d round trip:\n got %+v\nwant %+v", r.Seq, r.Entry, in[i])
		}
		if r.RecordedAt.IsZero() {
			t.Fatalf("seq %d: recorded_at not set", r.Seq)
		}
	}
	h, err := s.Head(ctx(t), "orders")
	if err != nil {
		t.Fatal(err)
	}
	if h.Seq != uint64(len(in)) || h.Hash != recs[len(recs)-1].Hash || h.TreeSize() != h.Seq {
		t.Fatalf("head %+v does not match the last record", h)
	}
}

func sameContent(a, b journal.Entry) bool {
	ba, err1 := journal.EntryBytes(&journal.Entry{Kind: a.Kind, SourceID: a.SourceID, SourcePosition: a.SourcePosition, TxID: a.TxID, CommitTime: a.CommitTime, Table: a.Table, Op: a.Op, Key: a.Key, Before: a.Before, After: a.After, SchemaFingerprint: a.SchemaFingerprint, ProducerID: a.ProducerID, ProducerSeq: a.ProducerSeq, Payload: a.Payload, Metadata: a.Metadata})
	bb, err2 := journal.EntryBytes(&journal.Entry{Kind: b.Kind, SourceID: b.SourceID, SourcePosition: b.SourcePosition, TxID: b.TxID, CommitTime: b.CommitTime, Table: b.Table, Op: b.Op, Key: b.Key, Before: b.Before, After: b.After, SchemaFingerprint: b.SchemaFingerprint, ProducerID: b.ProducerID, ProducerSeq: b.ProducerSeq, Payload: b.Payload, Metadata: b.Metadata})
	return err1 == nil && err2 == nil && bytes.Equal(ba, bb) && a.CommitTime.Equal(b.CommitTime)
}

func testGapFree(t *testing.T, open Opener) {
	s := open(t, "gapfree")
	n := 0
	for call := 1; call <= 20; call++ {
		var es []journal.Entry
		for j := 0; j < call; j++ {
			n++
			es = append(es, journal.Entry{Kind: journal.KindAppEvent, Payload: []byte(fmt.Sprint(n))})
		}
		res := mustAppend(t, s, "g", es...)
		for j, r := range res {
			if want := uint64(n - call + j + 1); r.Seq != want {
				t.Fatalf("call %d entry %d got seq %d, want %d", call, j, r.Seq, want)
			}
		}
	}
	recs := ReadAll(t, s, "g")
	if len(recs) != n {
		t.Fatalf("read %d, want %d", len(recs), n)
	}
	checkChain(t, "g", recs)
	for i, r := range recs {
		if string(r.Payload) != fmt.Sprint(i+1) {
			t.Fatalf("seq %d payload %q: entries out of order", r.Seq, r.Payload)
		}
	}
}

func testStreams(t *testing.T, open Opener) {
	s := open(t, "streams")
	mustAppend(t, s, "b-stream", SampleEntry(1), SampleEntry(2))
	mustAppend(t, s, "a-stream", SampleEntry(1))
	res := mustAppend(t, s, "b-stream", SampleEntry(3))
	if res[0].Seq != 3 {
		t.Fatalf("b-stream third entry got seq %d, want 3", res[0].Seq)
	}
	heads, err := s.Streams(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(heads) != 2 || heads[0].Stream != "a-stream" || heads[0].Seq != 1 || heads[1].Stream != "b-stream" || heads[1].Seq != 3 {
		t.Fatalf("streams = %+v, want a-stream@1, b-stream@3", heads)
	}
	checkChain(t, "a-stream", ReadAll(t, s, "a-stream"))
	checkChain(t, "b-stream", ReadAll(t, s, "b-stream"))
}

func testDedupPosition(t *testing.T, open Opener) {
	s := open(t, "dedup-pos")
	var es []journal.Entry
	for i := 1; i <= 5; i++ {
		e := SampleEntry(i * 10)
		es = append(es, e)
		if i == 2 {
			es = append(es, journal.Entry{Kind: journal.KindHeartbeat}) // no position: seq 3
		}
	}
	mustAppend(t, s, "s", es...) // positions 10,20,(hb),30,40,50 -> seqs 1,2,3,4,5,6
	hw, err := s.HighWater(ctx(t), "s")
	if err != nil || !bytes.Equal(hw, pos(50)) {
		t.Fatalf("high water = %x, %v; want %x", hw, err, pos(50))
	}
	head, _ := s.Head(ctx(t), "s")
	// A capture restart re-sends 30, 40, 50 and continues with 60, 70.
	res := mustAppend(t, s, "s", SampleEntry(30), SampleEntry(40), SampleEntry(50), SampleEntry(60), SampleEntry(70))
	want := []journal.AppendResult{{Seq: 4, Duplicate: true}, {Seq: 5, Duplicate: true}, {Seq: 6, Duplicate: true}, {Seq: 7}, {Seq: 8}}
	for i := range want {
		if res[i] != want[i] {
			t.Fatalf("re-sent entry %d: got %+v, want %+v", i, res[i], want[i])
		}
	}
	// Within one call, a repeated position is a duplicate of the first.
	res = mustAppend(t, s, "s", SampleEntry(80), SampleEntry(80), SampleEntry(10))
	if res[0] != (journal.AppendResult{Seq: 9}) || res[1] != (journal.AppendResult{Seq: 9, Duplicate: true}) || res[2] != (journal.AppendResult{Seq: 1, Duplicate: true}) {
		t.Fatalf("in-call duplicates: %+v", res)
	}
	// A position below the high water that was never stored is still skipped.
	res = mustAppend(t, s, "s", SampleEntry(15))
	if !res[0].Duplicate || res[0].Seq != 0 {
		t.Fatalf("unknown old position: %+v, want duplicate with seq 0", res[0])
	}
	recs := ReadAll(t, s, "s")
	if len(recs) != 9 {
		t.Fatalf("journal holds %d entries, want 9 (duplicates must not be written)", len(recs))
	}
	checkChain(t, "s", recs)
	if head.Seq != 6 {
		t.Fatalf("head before re-send = %d", head.Seq)
	}
}

func testDedupProducer(t *testing.T, open Opener) {
	s := open(t, "dedup-prod")
	mustAppend(t, s, "app", appEvent("svc-a", 1, "a1"), appEvent("svc-a", 2, "a2"), appEvent("svc-b", 1, "b1"))
	res := mustAppend(t, s, "app", appEvent("svc-a", 2, "a2 again"), appEvent("svc-a", 3, "a3"), appEvent("svc-b", 1, "b1"))
	want := []journal.AppendResult{{Seq: 2, Duplicate: true}, {Seq: 4}, {Seq: 3, Duplicate: true}}
	for i := range want {
		if res[i] != want[i] {
			t.Fatalf("retry %d: got %+v, want %+v", i, res[i], want[i])
		}
	}
	// Producer seqs need not be dense or ordered: 10 then 5 are both new.
	res = mustAppend(t, s, "app", appEvent("svc-a", 10, "a10"), appEvent("svc-a", 5, "a5"), appEvent("svc-a", 5, "a5"))
	if res[0] != (journal.AppendResult{Seq: 5}) || res[1] != (journal.AppendResult{Seq: 6}) || res[2] != (journal.AppendResult{Seq: 6, Duplicate: true}) {
		t.Fatalf("sparse producer seqs: %+v", res)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, "dedup-prod")
	res = mustAppend(t, s, "app", appEvent("svc-a", 1, "x"), appEvent("svc-a", 5, "x"), appEvent("svc-a", 11, "a11"), appEvent("svc-c", 1, "c1"))
	want = []journal.AppendResult{{Seq: 1, Duplicate: true}, {Seq: 6, Duplicate: true}, {Seq: 7}, {Seq: 8}}
	for i := range want {
		if res[i] != want[i] {
			t.Fatalf("after reopen %d: got %+v, want %+v (dedup state must be durable)", i, res[i], want[i])
		}
	}
	recs := ReadAll(t, s, "app")
	checkChain(t, "app", recs)
	if string(recs[1].Payload) != "a2" {
		t.Fatalf("a duplicate overwrote the original: %q", recs[1].Payload)
	}
}

func testReopen(t *testing.T, open Opener) {
	s := open(t, "reopen")
	for i := 1; i <= 50; i++ {
		mustAppend(t, s, "r", SampleEntry(i))
	}
	before, _ := s.Head(ctx(t), "r")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, "reopen")
	after, err := s.Head(ctx(t), "r")
	if err != nil {
		t.Fatal(err)
	}
	if before != after {
		t.Fatalf("head changed across reopen: %+v -> %+v", before, after)
	}
	hw, _ := s.HighWater(ctx(t), "r")
	if !bytes.Equal(hw, pos(50)) {
		t.Fatalf("high water after reopen %x", hw)
	}
	res := mustAppend(t, s, "r", SampleEntry(50), SampleEntry(51))
	if !res[0].Duplicate || res[0].Seq != 50 || res[1].Seq != 51 {
		t.Fatalf("append after reopen: %+v", res)
	}
	recs := ReadAll(t, s, "r")
	if len(recs) != 51 {
		t.Fatalf("read %d after reopen, want 51", len(recs))
	}
	checkChain(t, "r", recs)
}

func testConcurrent(t *testing.T, open Opener) {
	s := open(t, "concurrent")
	const workers, per = 16, 100
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	seqs := make([][]uint64, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 1; i <= per; i++ {
				res, err := s.Append(context.Background(), "c", []journal.Entry{appEvent(fmt.Sprintf("w%d", w), uint64(i), fmt.Sprintf("%d/%d", w, i))})
				if err != nil {
					errs <- err
					return
				}
				seqs[w] = append(seqs[w], res[0].Seq)
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	for w := range seqs {
		for i, q := range seqs[w] {
			if seen[q] {
				t.Fatalf("seq %d handed out twice", q)
			}
			seen[q] = true
			if i > 0 && q <= seqs[w][i-1] {
				t.Fatalf("worker %d: seq %d after %d: one caller's appends out of order", w, q, seqs[w][i-1])
			}
		}
	}
	recs := ReadAll(t, s, "c")
	if len(recs) != workers*per {
		t.Fatalf("read %d, want %d", len(recs), workers*per)
	}
	checkChain(t, "c", recs)
}

func testProofs(t *testing.T, open Opener) {
	s := open(t, "proofs")
	var hashes []journal.Hash
	for i := 1; i <= 37; i++ {
		mustAppend(t, s, "p", SampleEntry(i))
	}
	for _, r := range ReadAll(t, s, "p") {
		hashes = append(hashes, r.Hash)
	}
	head, _ := s.Head(ctx(t), "p")
	roots := map[uint64]journal.Hash{}
	for _, size := range []uint64{1, 2, 3, 7, 8, 16, 17, 36, 37} {
		for _, seq := range []uint64{1, 2, size / 2, size} {
			if seq == 0 || seq > size {
				continue
			}
			p, err := s.InclusionProof(ctx(t), "p", seq, size)
			if err != nil {
				t.Fatalf("inclusion seq %d size %d: %v", seq, size, err)
			}
			if p.EntryHash != hashes[seq-1] || p.TreeSize != size || p.Seq != seq {
				t.Fatalf("inclusion proof names the wrong entry: %+v", p)
			}
			if err := p.Verify(); err != nil {
				t.Fatalf("inclusion seq %d size %d does not verify: %v", seq, size, err)
			}
			roots[size] = p.Root
			bad := p
			bad.EntryHash[0] ^= 1
			if bad.Verify() == nil {
				t.Fatalf("inclusion proof verified for a wrong entry hash")
			}
		}
	}
	if roots[37] != head.Root {
		t.Fatalf("proof root %s differs from head root %s", roots[37], head.Root)
	}
	if p, err := s.InclusionProof(ctx(t), "p", 5, 0); err != nil || p.TreeSize != 37 {
		t.Fatalf("tree size 0 should mean the head: %+v, %v", p, err)
	}
	for _, pair := range [][2]uint64{{1, 37}, {7, 8}, {8, 16}, {3, 17}, {16, 37}, {37, 37}, {0, 5}} {
		p, err := s.ConsistencyProof(ctx(t), "p", pair[0], pair[1])
		if err != nil {
			t.Fatalf("consistency %v: %v", pair, err)
		}
		if err := p.Verify(); err != nil {
			t.Fatalf("consistency %v does not verify: %v", pair, err)
		}
		if pair[0] > 0 && p.FromRoot != roots[pair[0]] && roots[pair[0]] != (journal.Hash{}) {
			t.Fatalf("consistency %v: from root %s, inclusion proofs said %s", pair, p.FromRoot, roots[pair[0]])
		}
		if pair[0] > 0 && pair[0] < pair[1] {
			bad := p
			bad.FromRoot[3] ^= 1
			if bad.Verify() == nil {
				t.Fatalf("consistency %v verified with a wrong old root", pair)
			}
		}
	}
	if _, err := s.InclusionProof(ctx(t), "p", 38, 0); !errors.Is(err, journal.ErrSeqOutOfRange) {
		t.Fatalf("seq past head: %v, want ErrSeqOutOfRange", err)
	}
	if _, err := s.InclusionProof(ctx(t), "p", 1, 38); !errors.Is(err, journal.ErrBadTreeSize) {
		t.Fatalf("tree size past head: %v, want ErrBadTreeSize", err)
	}
	if _, err := s.ConsistencyProof(ctx(t), "p", 9, 4); !errors.Is(err, journal.ErrBadTreeSize) {
		t.Fatalf("from > to: %v, want ErrBadTreeSize", err)
	}
}

func testCheckpoints(t *testing.T, open Opener) {
	s := open(t, "ckpt")
	for i := 1; i <= 10; i++ {
		mustAppend(t, s, "k", SampleEntry(i))
	}
	c1, err := s.Checkpoint(ctx(t), "k")
	if err != nil {
		t.Fatal(err)
	}
	head, _ := s.Head(ctx(t), "k")
	got, err := journal.OpenCheckpoint(c1.Note, s.VerifierKey())
	if err != nil {
		t.Fatalf("checkpoint does not verify with the store's key: %v", err)
	}
	if got.Size != 10 || got.Root != head.Root || got.Origin == "" {
		t.Fatalf("checkpoint %+v does not match head %+v", got, head)
	}
	latest, err := s.LatestCheckpoint(ctx(t), "k")
	if err != nil || latest.Size != 10 {
		t.Fatalf("latest checkpoint %+v, %v", latest, err)
	}
	for i := 11; i <= 30; i++ {
		mustAppend(t, s, "k", SampleEntry(i))
	}
	c2, err := s.Checkpoint(ctx(t), "k")
	if err != nil || c2.Size != 30 {
		t.Fatalf("second checkpoint %+v, %v", c2, err)
	}
	cons, err := s.ConsistencyProof(ctx(t), "k", c1.Size, c2.Size)
	if err != nil {
		t.Fatal(err)
	}
	if cons.FromRoot != c1.Root || cons.ToRoot != c2.Root || cons.Verify() != nil {
		t.Fatalf("consistency between checkpoints does not hold: %+v", cons)
	}
	tampered := bytes.Replace(c2.Note, []byte("\n30\n"), []byte("\n29\n"), 1)
	if _, err := journal.OpenCheckpoint(tampered, s.VerifierKey()); !errors.Is(err, journal.ErrBadSignature) {
		t.Fatalf("tampered checkpoint: %v, want ErrBadSignature", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, "ckpt")
	latest, err = s.LatestCheckpoint(ctx(t), "k")
	if err != nil || latest.Size != 30 {
		t.Fatalf("checkpoint after reopen %+v, %v", latest, err)
	}
	if _, err := s.LatestCheckpoint(ctx(t), "nope"); !errors.Is(err, journal.ErrUnknownStream) {
		t.Fatalf("checkpoint of unknown stream: %v", err)
	}
}

func testReadPastHead(t *testing.T, open Opener) {
	s := open(t, "wait")
	mustAppend(t, s, "w", SampleEntry(1), SampleEntry(2))
	recs, err := s.Read(ctx(t), "w", 3, 10)
	if err != nil || len(recs) != 0 {
		t.Fatalf("read past head: %d records, %v; want none and no error", len(recs), err)
	}
	recs, err = s.Read(ctx(t), "w", 1, 1)
	if err != nil || len(recs) != 1 || recs[0].Seq != 1 {
		t.Fatalf("limit 1: %+v, %v", recs, err)
	}
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.Wait(short, "w", 2); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait past head with nothing coming: %v, want deadline exceeded", err)
	}
	done := make(chan journal.Head, 2)
	go func() {
		h, err := s.Wait(ctx(t), "w", 2)
		if err != nil {
			t.Error(err)
		}
		done <- h
	}()
	go func() {
		h, err := s.Wait(ctx(t), "later", 0)
		if err != nil {
			t.Error(err)
		}
		done <- h
	}()
	time.Sleep(20 * time.Millisecond)
	mustAppend(t, s, "w", SampleEntry(3))
	mustAppend(t, s, "later", SampleEntry(1))
	for i := 0; i < 2; i++ {
		select {
		case h := <-done:
			if h.Seq == 0 {
				t.Fatalf("wait returned an empty head")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Wait did not wake on append")
		}
	}
}

func testBadInput(t *testing.T, open Opener) {
	s := open(t, "bad")
	if _, err := s.Head(ctx(t), "missing"); !errors.Is(err, journal.ErrUnknownStream) {
		t.Fatalf("head of unknown stream: %v", err)
	}
	if _, err := s.Read(ctx(t), "missing", 1, 10); !errors.Is(err, journal.ErrUnknownStream) {
		t.Fatalf("read of unknown stream: %v", err)
	}
	if _, err := s.Append(ctx(t), "bad name!", []journal.Entry{SampleEntry(1)}); !errors.Is(err, journal.ErrBadStreamName) {
		t.Fatalf("bad stream name: %v", err)
	}
	_, err := s.Append(ctx(t), "x", []journal.Entry{SampleEntry(1), {Kind: 99}})
	if !errors.Is(err, journal.ErrInvalidEntry) {
		t.Fatalf("bad kind: %v", err)
	}
	if _, err := s.Head(ctx(t), "x"); !errors.Is(err, journal.ErrUnknownStream) {
		t.Fatalf("a rejected append must write nothing: %v", err)
	}
	_, err = s.Append(ctx(t), "x", []journal.Entry{{Stream: "y", Kind: journal.KindAppEvent}})
	if !errors.Is(err, journal.ErrInvalidEntry) {
		t.Fatalf("entry naming another stream: %v", err)
	}
	mustAppend(t, s, "x", SampleEntry(1))
	if _, err := s.Read(ctx(t), "x", 0, 10); err == nil {
		t.Fatal("read from seq 0 should fail")
	}
	if _, err := s.Read(ctx(t), "x", 1, -1); err == nil {
		t.Fatal("negative limit should fail")
	}
}

func testDeterministic(t *testing.T, open Opener) {
	a := open(t, "det-a")
	b := open(t, "det-b")
	var es []journal.Entry
	for i := 1; i <= 40; i++ {
		es = append(es, SampleEntry(i))
	}
	// Different batch boundaries and a pause must not change the bytes.
	mustAppend(t, a, "d", es...)
	for i := range es {
		mustAppend(t, b, "d", es[i])
		if i == 20 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	mustAppend(t, b, "d", es[10:30]...) // duplicates change nothing
	ha, _ := a.Head(ctx(t), "d")
	hb, _ := b.Head(ctx(t), "d")
	if ha != hb {
		t.Fatalf("same entries, different heads:\n%+v\n%+v", ha, hb)
	}
}
