package pulsar

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/cairnlog/cairn/fixtures"
	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/journal/badgerstore"
	"github.com/cairnlog/cairn/replay/state"
)

func TestMain(m *testing.M) { os.Exit(fixtures.RunTests(m)) }

// appendTxs writes n transactions, each changing orders and items.
func appendTxs(t *testing.T, s journal.Store, first, n int) {
	t.Helper()
	var es []journal.Entry
	for tx := first; tx < first+n; tx++ {
		pos := func(i int) []byte { return []byte(fmt.Sprintf("%08d%02d", tx, i)) }
		id := fmt.Sprintf(`{"id":%d}`, tx%7) // keys repeat: per-key order matters
		es = append(es,
			journal.Entry{Kind: journal.KindTxBegin, TxID: strconv.Itoa(tx), SourcePosition: pos(0)},
			journal.Entry{Kind: journal.KindChange, TxID: strconv.Itoa(tx), Table: "public.orders", Op: journal.OpUpdate, Key: []byte(id), Before: []byte(id), After: []byte(fmt.Sprintf(`{"id":%d,"n":%d}`, tx%7, tx)), SourcePosition: pos(1), CommitTime: time.Unix(int64(tx), 0)},
			journal.Entry{Kind: journal.KindChange, TxID: strconv.Itoa(tx), Table: "public.items", Op: journal.OpInsert, Key: []byte(id), After: []byte(id), SourcePosition: pos(2)},
			journal.Entry{Kind: journal.KindTxCommit, TxID: strconv.Itoa(tx), SourcePosition: pos(3)},
		)
	}
	if _, err := s.Append(context.Background(), "shop", es); err != nil {
		t.Fatal(err)
	}
}

type got struct {
	seq  uint64
	key  string
	body map[string]any
	prop map[string]string
}

// readAll reads every message of a topic from the start.
func readAll(t *testing.T, c pulsar.Client, topic string, want int) []got {
	t.Helper()
	r, err := c.CreateReader(pulsar.ReaderOptions{Topic: topic, StartMessageID: pulsar.EarliestMessageID()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []got
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		m, err := r.Next(ctx)
		cancel()
		if err != nil {
			if len(out) < want {
				t.Fatalf("%s: read %d messages, want %d: %v", topic, len(out), want, err)
			}
			return out
		}
		var body map[string]any
		if err := json.Unmarshal(m.Payload(), &body); err != nil {
			t.Fatalf("payload is not JSON: %s", m.Payload())
		}
		seq, _ := strconv.ParseUint(m.Properties()["cairn.seq"], 10, 64)
		out = append(out, got{seq: seq, key: m.Key(), body: body, prop: m.Properties()})
	}
}

func TestSinkForwardsEffectivelyOnce(t *testing.T) {
	pl := fixtures.SharedPulsar(t)
	ctx := context.Background()
	if err := pl.SetDeduplication(ctx, true); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	store, err := badgerstore.Open(badgerstore.DefaultConfig(filepath.Join(dir, "journal")))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	st, err := state.Open(filepath.Join(dir, "state"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := Config{Name: "to-pulsar", Stream: "shop", ServiceURL: pl.ServiceURL(), TopicPrefix: pl.Topic("shop."), Batch: 50}
	appendTxs(t, store, 1, 100)

	run := func(until func() bool) {
		t.Helper()
		s, err := New(store, st, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- s.Run(rctx) }()
		deadline := time.Now().Add(60 * time.Second)
		for !until() {
			if time.Now().After(deadline) {
				t.Fatal("the sink did not get there in time")
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	position := func() uint64 {
		b, _ := st.Get([]byte("sink/to-pulsar"))
		if len(b) != 8 {
			return 0
		}
		return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 | uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
	}
	run(func() bool { return position() >= 400 })

	// A crash after sending but before saving the position: put the
	// position back and run again. The broker drops the resent messages.
	if err := st.Update([]state.KV{{Key: []byte("sink/to-pulsar"), Value: []byte{0, 0, 0, 0, 0, 0, 0, 120}}}, nil); err != nil {
		t.Fatal(err)
	}
	appendTxs(t, store, 101, 50)
	run(func() bool { return position() >= 600 })

	client, err := pulsar.NewClient(pulsar.ClientOptions{URL: pl.ServiceURL(), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	for _, table := range []string{"public.orders", "public.items"} {
		msgs := readAll(t, client, pl.Topic("shop."+table), 150)
		if len(msgs) != 150 {
			t.Fatalf("%s: %d messages, want 150 (one per change, none doubled)", table, len(msgs))
		}
		seqs := make([]uint64, len(msgs))
		lastByKey := map[string]uint64{}
		for i, m := range msgs {
			seqs[i] = m.seq
			if m.prop["cairn.stream"] != "shop" || len(m.prop["cairn.hash"]) != 64 || m.body["table"] != table {
				t.Fatalf("message %d of %s: %v %v", i, table, m.prop, m.body)
			}
			if m.key == "" || m.seq <= lastByKey[m.key] {
				t.Fatalf("%s: key %q out of order at seq %d", table, m.key, m.seq)
			}
			lastByKey[m.key] = m.seq
		}
		if !sort.SliceIsSorted(seqs, func(i, j int) bool { return seqs[i] < seqs[j] }) {
			t.Fatalf("%s: messages out of journal order", table)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{Stream: "s", ServiceURL: "pulsar://x", TopicPrefix: "p"},
		{Name: "n", ServiceURL: "pulsar://x", TopicPrefix: "p"},
		{Name: "n", Stream: "s", TopicPrefix: "p"},
		{Name: "n", Stream: "s", ServiceURL: "pulsar://x"},
		{Name: "n", Stream: "bad stream", ServiceURL: "pulsar://x", TopicPrefix: "p"},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
