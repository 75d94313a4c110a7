// Package pulsar forwards a stream's row changes to one Apache Pulsar topic
// per table, for consumers that already speak Pulsar.
//
// Delivery is at least once from Cairn and effectively once in Pulsar: each
// table's producer has a stable name and sends every entry with
// SequenceID = its journal seq, so the broker (namespace deduplication on)
// drops anything resent after a crash. The sink's own position (the last
// seq whose messages the broker acknowledged) is durable in the consumer
// state store and only moves after the acks.
package pulsar

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/replay"
	"github.com/cairnlog/cairn/replay/history"
	"github.com/cairnlog/cairn/replay/state"
)

// Config configures one sink.
type Config struct {
	// Name identifies the sink: its state key and its producers' names.
	Name string
	// Stream is the journal stream to forward.
	Stream string
	// ServiceURL is the broker, e.g. pulsar://127.0.0.1:6650.
	ServiceURL string
	// TopicPrefix is prepended to the table name to make a topic, e.g.
	// "persistent://public/default/shop." gives ".../shop.public.orders".
	TopicPrefix string
	// Tables limits the tables forwarded (empty: all).
	Tables []string
	// Batch is the most entries sent before waiting for acks and saving the
	// position (default 1000).
	Batch  int
	Logger *slog.Logger
}

var sinkNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// Validate checks the config, naming the field to fix.
func (c Config) Validate() error {
	switch {
	case !sinkNameRE.MatchString(c.Name):
		return fmt.Errorf("pulsar sink: name %q: use 1-128 letters, digits, '.', '_' or '-'", c.Name)
	case c.Stream == "":
		return fmt.Errorf("pulsar sink %s: stream is required", c.Name)
	case c.ServiceURL == "":
		return fmt.Errorf("pulsar sink %s: service_url is required (e.g. pulsar://broker:6650)", c.Name)
	case c.TopicPrefix == "":
		return fmt.Errorf("pulsar sink %s: topic_prefix is required (e.g. persistent://public/default/%s.)", c.Name, c.Stream)
	}
	return journal.ValidateStreamName(c.Stream)
}

// Sink forwards one stream.
type Sink struct {
	cfg       Config
	store     journal.Store
	st        *state.DB
	client    pulsar.Client
	producers map[string]pulsar.Producer
	hist      *history.History // renders Avro row images as row JSON
	log       *slog.Logger
}

// New makes a sink; Run starts it.
func New(store journal.Store, st *state.DB, cfg Config) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 1000
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	client, err := pulsar.NewClient(pulsar.ClientOptions{URL: cfg.ServiceURL, OperationTimeout: 30 * time.Second, Logger: quietLogger()})
	if err != nil {
		return nil, fmt.Errorf("pulsar sink %s: connect to %s: %w", cfg.Name, cfg.ServiceURL, err)
	}
	return &Sink{cfg: cfg, store: store, st: st, client: client, producers: map[string]pulsar.Producer{}, hist: history.New(store, cfg.Stream), log: log.With("sink", cfg.Name)}, nil
}

func (s *Sink) stateKey() []byte { return []byte("sink/" + s.cfg.Name) }

// Position is the last seq the sink has forwarded (0: none).
func (s *Sink) Position() (uint64, error) {
	b, err := s.st.Get(s.stateKey())
	if err != nil || b == nil {
		return 0, err
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("pulsar sink %s: stored position is %d bytes, want 8", s.cfg.Name, len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

func (s *Sink) savePosition(seq uint64) error {
	return s.st.Update([]state.KV{{Key: s.stateKey(), Value: binary.BigEndian.AppendUint64(nil, seq)}}, nil)
}

// Close closes the producers and the client.
func (s *Sink) Close() {
	for _, p := range s.producers {
		p.Close()
	}
	s.client.Close()
}

// Run forwards entries from the saved position until ctx ends (returning
// nil) or a send fails (returning the error; the position is not moved past
// what the broker acknowledged, so a new Run resends and the broker drops
// what it already has).
func (s *Sink) Run(ctx context.Context) error {
	pos, err := s.Position()
	if err != nil {
		return err
	}
	filter := replay.Filter{Kinds: []journal.Kind{journal.KindChange, journal.KindSnapshotRead}, Tables: s.cfg.Tables}
	seen := pos // wait for entries past what the last scan saw, not past pos:
	// a journal that ends inside a transaction keeps pos before it
	for {
		head, err := s.store.Wait(ctx, s.cfg.Stream, seen)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		seen = head.Seq
		cur, err := replay.NewCursor(s.store, s.cfg.Stream, replay.CursorOptions{From: pos + 1, Filter: filter, TxComplete: true, PageSize: s.cfg.Batch})
		if err != nil {
			return err
		}
		for {
			recs, err := cur.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			if err := s.send(ctx, recs); err != nil {
				return err
			}
			if err := s.savePosition(cur.Position()); err != nil {
				return err
			}
		}
		// Everything up to the cursor's position was considered, also what
		// the filter dropped.
		if p := cur.Position(); p > pos {
			if err := s.savePosition(p); err != nil {
				return err
			}
			pos = p
		}
	}
}

// send publishes a batch and waits until the broker acknowledged all of it.
func (s *Sink) send(ctx context.Context, recs []journal.Record) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for i := range recs {
		rendered, err := s.hist.Render(ctx, &recs[i])
		if err != nil {
			return fmt.Errorf("pulsar sink %s: render seq %d: %w", s.cfg.Name, recs[i].Seq, err)
		}
		r := &rendered
		p, err := s.producer(ctx, r.Table)
		if err != nil {
			return err
		}
		msg := &pulsar.ProducerMessage{
			Payload:    message(r),
			Key:        string(r.Key),
			SequenceID: ptr(int64(r.Seq)),
			Properties: properties(r),
		}
		if !r.CommitTime.IsZero() {
			msg.EventTime = r.CommitTime
		}
		wg.Add(1)
		p.SendAsync(ctx, msg, func(_ pulsar.MessageID, _ *pulsar.ProducerMessage, err error) {
			defer wg.Done()
			if err != nil {
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("pulsar sink %s: send seq %d to %s: %w", s.cfg.Name, r.Seq, s.cfg.TopicPrefix+r.Table, err)
				}
				mu.Unlock()
			}
		})
	}
	for _, p := range s.producers {
		if err := p.FlushWithCtx(ctx); err != nil && first == nil {
			first = fmt.Errorf("pulsar sink %s: flush: %w", s.cfg.Name, err)
		}
	}
	wg.Wait()
	return first
}

func ptr[T any](v T) *T { return &v }

// producer returns the table's producer, creating it with a stable name so
// the broker's deduplication recognises resends across restarts.
func (s *Sink) producer(ctx context.Context, table string) (pulsar.Producer, error) {
	if p, ok := s.producers[table]; ok {
		return p, nil
	}
	topic := s.cfg.TopicPrefix + table
	p, err := s.client.CreateProducer(pulsar.ProducerOptions{
		Topic:           topic,
		Name:            "cairn-sink." + s.cfg.Name + "." + table,
		DisableBatching: true, // pulsar-client-go #1395/#1407: dedup plus batching loses messages
		SendTimeout:     30 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("pulsar sink %s: producer for %s: %w (is the namespace's deduplication on and the topic name valid?)", s.cfg.Name, topic, err)
	}
	s.log.Info("producer ready", "topic", topic, "last_sequence_id", p.LastSequenceID())
	s.producers[table] = p
	return p, nil
}

// properties carry the journal coordinates of a message.
func properties(r *journal.Record) map[string]string {
	p := map[string]string{
		"cairn.stream": r.Stream,
		"cairn.seq":    strconv.FormatUint(r.Seq, 10),
		"cairn.hash":   hex.EncodeToString(r.Hash[:]),
		"cairn.kind":   r.Kind.String(),
	}
	if r.Op != journal.OpNone {
		p["cairn.op"] = r.Op.String()
	}
	if len(r.SchemaFingerprint) > 0 {
		p["cairn.schema"] = hex.EncodeToString(r.SchemaFingerprint)
	}
	if r.TxID != "" {
		p["cairn.tx_id"] = r.TxID
	}
	return p
}
