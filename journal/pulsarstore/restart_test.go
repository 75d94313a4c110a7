package pulsarstore

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/cairnlog/cairn/fixtures"
	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/journal/journaltest"
)

func pos(n uint64) []byte { return []byte(fmt.Sprintf("%016d", n)) }

func change(n uint64) journal.Entry {
	e := journaltest.SampleEntry(int(n))
	e.SourcePosition = pos(n)
	return e
}

func app(producer string, n uint64) journal.Entry {
	return journal.Entry{Kind: journal.KindAppEvent, ProducerID: producer, ProducerSeq: n, Payload: []byte(fmt.Sprintf("%s/%d", producer, n))}
}

func mustAppend(t testing.TB, s *Store, stream string, es ...journal.Entry) []journal.AppendResult {
	t.Helper()
	res, err := s.Append(testCtx(t), stream, es)
	if err != nil {
		t.Fatalf("append to %s: %v", stream, err)
	}
	return res
}

// checkChain asserts seqs 1..n, links and recomputed hashes.
func checkChain(t testing.TB, recs []journal.Record) {
	t.Helper()
	var prev journal.Hash
	for i, r := range recs {
		b, err := journal.EntryBytes(&r.Entry)
		if err != nil {
			t.Fatal(err)
		}
		if r.Seq != uint64(i+1) || r.PrevHash != prev || journal.HashEntryBytes(b) != r.Hash {
			t.Fatalf("record %d (seq %d) does not chain", i, r.Seq)
		}
		prev = r.Hash
	}
}

// TestRestartWithEmptyCache: a node that lost its data dir (or a new node)
// rebuilds everything from Pulsar: head, proofs, checkpoints, and exact
// dedup by source position and by producer.
func TestRestartWithEmptyCache(t *testing.T) {
	t.Parallel()
	p := fixtures.SharedPulsar(t)
	key := testKeyFile(t)
	cfg := testConfig(t, p, filepath.Join(t.TempDir(), "a"), key)
	s := openStore(t, cfg)
	var es []journal.Entry
	for i := uint64(1); i <= 300; i++ {
		es = append(es, change(i*10))
		if i%7 == 0 {
			es = append(es, app("svc", i)) // producer seqs 7, 14, ...
		}
	}
	mustAppend(t, s, "db", es[:150]...)
	mustAppend(t, s, "db", es[150:]...)
	before, err := s.Head(testCtx(t), "db")
	if err != nil {
		t.Fatal(err)
	}
	proof, err := s.InclusionProof(testCtx(t), "db", 17, 0)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := s.ConsistencyProof(testCtx(t), "db", 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	ckpt, err := s.Checkpoint(testCtx(t), "db")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	cfg.Dir = filepath.Join(t.TempDir(), "fresh") // nothing local
	started := time.Now()
	s = openStore(t, cfg)
	t.Logf("rebuilt the index of %d entries from the topic in %v", before.Seq, time.Since(started).Round(time.Millisecond))
	after, err := s.Head(testCtx(t), "db")
	if err != nil || after != before {
		t.Fatalf("head after rebuild %+v (%v), want %+v", after, err, before)
	}
	p2, err := s.InclusionProof(testCtx(t), "db", 17, before.Seq)
	if err != nil || p2.Root != proof.Root || p2.EntryHash != proof.EntryHash || p2.Verify() != nil {
		t.Fatalf("inclusion proof after rebuild: %+v, %v", p2, err)
	}
	c2, err := s.ConsistencyProof(testCtx(t), "db", 100, before.Seq)
	if err != nil || c2.FromRoot != cons.FromRoot || c2.Verify() != nil {
		t.Fatalf("consistency proof after rebuild: %+v, %v", c2, err)
	}
	latest, err := s.LatestCheckpoint(testCtx(t), "db")
	if err != nil || !bytes.Equal(latest.Note, ckpt.Note) {
		t.Fatalf("latest checkpoint after rebuild: %v, %v", latest.Checkpoint, err)
	}
	if _, err := journal.OpenCheckpoint(latest.Note, s.VerifierKey()); err != nil {
		t.Fatalf("checkpoint does not verify with the shared key: %v", err)
	}
	hw, err := s.HighWater(testCtx(t), "db")
	if err != nil || !bytes.Equal(hw, pos(3000)) {
		t.Fatalf("high water after rebuild %q, %v", hw, err)
	}
	// Dedup is exact: old positions give their seqs (or 0 when never
	// stored), producer retries their original seqs, new ones continue.
	res := mustAppend(t, s, "db", change(10), change(15), change(1500), app("svc", 7), app("svc", 8), change(3010), app("svc", 294))
	recs := journaltest.ReadAll(t, s, "db")
	seqOf := func(match func(journal.Entry) bool) uint64 {
		for _, r := range recs {
			if match(r.Entry) {
				return r.Seq
			}
		}
		return 0
	}
	atPos := func(n uint64) uint64 {
		return seqOf(func(e journal.Entry) bool { return bytes.Equal(e.SourcePosition, pos(n)) })
	}
	want := []journal.AppendResult{
		{Seq: atPos(10), Duplicate: true}, {Seq: 0, Duplicate: true}, {Seq: atPos(1500), Duplicate: true},
		{Seq: seqOf(func(e journal.Entry) bool { return e.ProducerID == "svc" && e.ProducerSeq == 7 }), Duplicate: true},
		{Seq: before.Seq + 1}, {Seq: before.Seq + 2},
		{Seq: seqOf(func(e journal.Entry) bool { return e.ProducerID == "svc" && e.ProducerSeq == 294 }), Duplicate: true},
	}
	for i := range want {
		if res[i] != want[i] || (want[i].Duplicate && i != 1 && want[i].Seq == 0) {
			t.Fatalf("after rebuild, entry %d: got %+v, want %+v", i, res[i], want[i])
		}
	}
	if len(recs) != int(before.Seq)+2 {
		t.Fatalf("journal holds %d entries, want %d", len(recs), before.Seq+2)
	}
	checkChain(t, recs)
	if recs[before.Seq].PrevHash != before.Hash {
		t.Fatalf("first entry after the rebuild does not link to the old head")
	}
}

// TestFollowerTracksWriter: a node that does not write a stream follows
// its topic, so Wait, Head and Read see the writer's entries.
func TestFollowerTracksWriter(t *testing.T) {
	t.Parallel()
	p := fixtures.SharedPulsar(t)
	key := testKeyFile(t)
	w := openStore(t, testConfig(t, p, filepath.Join(t.TempDir(), "writer"), key))
	mustAppend(t, w, "s", change(1), change(2))
	f := openStore(t, testConfig(t, p, filepath.Join(t.TempDir(), "follower"), key))
	if h, err := f.Head(testCtx(t), "s"); err != nil || h.Seq != 2 {
		t.Fatalf("follower head at open: %+v, %v", h, err)
	}
	done := make(chan journal.Head, 1)
	go func() {
		h, err := f.Wait(testCtx(t), "later", 0) // created by the writer below
		if err != nil {
			t.Error(err)
		}
		done <- h
	}()
	for i := uint64(3); i <= 40; i++ {
		mustAppend(t, w, "s", change(i))
	}
	mustAppend(t, w, "later", change(1))
	want, _ := w.Head(testCtx(t), "s")
	got, err := f.Wait(testCtx(t), "s", want.Seq-1)
	if err != nil || got != want {
		t.Fatalf("follower head %+v (%v), writer head %+v", got, err, want)
	}
	select {
	case h := <-done:
		if h.Seq != 1 {
			t.Fatalf("wait on a new stream returned %+v", h)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the follower never saw the stream another node created")
	}
	recs := journaltest.ReadAll(t, f, "s")
	checkChain(t, recs)
	if len(recs) != 40 {
		t.Fatalf("follower reads %d entries, want 40", len(recs))
	}
	p1, err := f.InclusionProof(testCtx(t), "s", 7, 0)
	if err != nil || p1.Root != want.Root || p1.Verify() != nil {
		t.Fatalf("follower proof %+v, %v", p1, err)
	}
	if f.Writing("s") || !w.Writing("s") {
		t.Fatalf("Writing: follower %v, writer %v", f.Writing("s"), w.Writing("s"))
	}
	heads, err := f.Streams(testCtx(t))
	if err != nil || len(heads) != 2 || heads[0].Stream != "later" || heads[1] != want {
		t.Fatalf("follower streams %+v, %v", heads, err)
	}
}
