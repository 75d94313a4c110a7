package pulsarstore

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/cairnlog/cairn/fixtures"
	"github.com/cairnlog/cairn/journal"
)

func TestConfigValidate(t *testing.T) {
	good := DefaultConfig("pulsar://127.0.0.1:6650", "http://127.0.0.1:8080", t.TempDir())
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*Config){
		"service url": func(c *Config) { c.ServiceURL = "http://x:1" },
		"admin url":   func(c *Config) { c.AdminURL = "pulsar://x:1" },
		"namespace":   func(c *Config) { c.Namespace = "public" },
		"prefix":      func(c *Config) { c.TopicPrefix = "a/b" },
		"dir":         func(c *Config) { c.Dir = "" },
		"entry size":  func(c *Config) { c.MaxEntryBytes = 10 },
	} {
		c := good
		mutate(&c)
		if c.Validate() == nil {
			t.Errorf("%s: bad config accepted", name)
		}
	}
	if got := good.CheckpointTopic("orders"); got != "persistent://public/cairn/orders=checkpoints" {
		t.Errorf("checkpoint topic %s", got)
	}
	if good.streamOfTopic(good.CheckpointTopic("orders")) != "" || good.streamOfTopic(good.EntriesTopic("orders")) != "orders" {
		t.Error("streamOfTopic")
	}
}

func TestBrokerUnreachable(t *testing.T) {
	cfg := DefaultConfig("pulsar://127.0.0.1:1", "http://127.0.0.1:1", t.TempDir())
	cfg.SigningKeyFile = testKeyFile(t)
	_, err := Open(context.Background(), cfg)
	if !errors.Is(err, ErrBrokerUnreachable) || !strings.Contains(err.Error(), "admin_url") {
		t.Fatalf("open against nothing: %v", err)
	}
}

// TestDeduplicationRequired: Open turns namespace deduplication on, or,
// when it may not manage the namespace, refuses it off; a topic-level
// policy that turns it off is refused when the stream is taken.
func TestDeduplicationRequired(t *testing.T) {
	t.Parallel()
	p := fixtures.SharedPulsar(t)
	ctx := testCtx(t)
	if err := p.SetDeduplication(ctx, false); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, p, t.TempDir(), testKeyFile(t))
	cfg.ManageNamespace = false
	if _, err := Open(ctx, cfg); !errors.Is(err, ErrDeduplicationOff) || !strings.Contains(err.Error(), "set-deduplication") {
		t.Fatalf("open with deduplication off: %v", err)
	}
	cfg.ManageNamespace = true
	s := openStore(t, cfg)
	if on, err := p.Deduplication(ctx); err != nil || on == nil || !*on {
		t.Fatalf("namespace deduplication after Open: %v, %v", on, err)
	}
	topic, err := p.CreateTopic(ctx, "nodedup")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Admin(ctx, http.MethodPost, "/admin/v2/persistent/"+p.Namespace()+"/nodedup/deduplicationEnabled", false, nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ { // topic policies reach the broker asynchronously
		_, err = s.AcquireStream(ctx, "nodedup")
		if errors.Is(err, ErrDeduplicationOff) || i == 50 {
			break
		}
		s.ReleaseStream(ctx, "nodedup")
	}
	if !errors.Is(err, ErrDeduplicationOff) || !strings.Contains(err.Error(), topic) {
		t.Fatalf("acquire a topic with deduplication off: %v", err)
	}
}

// TestTopicsThatAreNotJournals: a partitioned topic, a topic with a foreign
// message and a topic whose entries do not chain are refused with errors
// that say so.
func TestTopicsThatAreNotJournals(t *testing.T) {
	t.Parallel()
	p := fixtures.SharedPulsar(t)
	ctx := testCtx(t)
	if err := p.Admin(ctx, http.MethodPut, "/admin/v2/persistent/"+p.Namespace()+"/parts/partitions", 2, nil); err != nil {
		t.Fatal(err)
	}
	key := testKeyFile(t)
	client, err := pulsar.NewClient(pulsar.ClientOptions{URL: p.ServiceURL()})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	send := func(topic string, payloads ...[]byte) {
		prod, err := client.CreateProducer(pulsar.ProducerOptions{Topic: p.Topic(topic), DisableBatching: true})
		if err != nil {
			t.Fatal(err)
		}
		defer prod.Close()
		for _, b := range payloads {
			if _, err := prod.Send(ctx, &pulsar.ProducerMessage{Payload: b}); err != nil {
				t.Fatal(err)
			}
		}
	}
	entry := func(stream string, seq uint64, prev journal.Hash) []byte {
		e := change(seq)
		e.Stream, e.Seq, e.PrevHash = stream, seq, prev
		b, err := journal.EntryBytes(&e)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	first := entry("gap", 1, journal.Hash{})
	send("gap", first, entry("gap", 3, journal.HashEntryBytes(first)))
	send("fork", entry("fork", 1, journal.Hash{}), entry("fork", 2, journal.Hash{1}))
	send("foreign", []byte(`{"hello":"world"}`))

	s := openStore(t, testConfig(t, p, filepath.Join(t.TempDir(), "n"), key))
	if _, err := s.AcquireStream(ctx, "parts"); !errors.Is(err, ErrTopicPartitioned) {
		t.Fatalf("partitioned topic: %v", err)
	}
	for stream, want := range map[string]string{"gap": "carries seq 3 where seq 2 was due", "foreign": "not a journal entry", "fork": "has prev_hash"} {
		_, err := s.Head(ctx, stream)
		if !errors.Is(err, journal.ErrCorrupt) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), p.Topic(stream)) {
			t.Fatalf("head of %s: %v (want ErrCorrupt saying %q)", stream, err, want)
		}
		if _, err := s.Append(ctx, stream, []journal.Entry{change(9)}); !errors.Is(err, journal.ErrCorrupt) {
			t.Fatalf("append to %s: %v", stream, err)
		}
	}
}
