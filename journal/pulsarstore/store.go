package pulsarstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/apache/pulsar-client-go/pulsar/backoff"
	plog "github.com/apache/pulsar-client-go/pulsar/log"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/mod/sumdb/note"

	"github.com/cairnlog/cairn/journal"
)

// Store is a journal.Store on Apache Pulsar: one topic per stream holds the
// entries, a local index (Dir/cache) makes seeks, proofs and dedup fast, and
// the exclusive producer of a stream's topic decides which node writes it.
//
// Lock order: stream.acq (acquire, release, follow, catch-up of one stream)
// before Store.mu (published heads, the stream map) before writer.mu
// (in-flight dedup state) and readerPool.mu. Callbacks of the Pulsar client
// take only writer.mu, group.mu and Store.mu, never stream.acq.
type Store struct {
	cfg    Config
	log    *slog.Logger
	signer note.Signer
	vkey   string
	admin  *admin
	client pulsar.Client // readers; each writer has its own client
	cache  *cache
	plog   plog.Logger
	reg    prometheus.Registerer

	ctx     context.Context // ends when Close starts: followers, acquisitions
	cancel  context.CancelFunc
	wctx    context.Context // ends when Close is done: writers' read-backs
	wcancel context.CancelFunc
	bg      sync.WaitGroup

	mu      sync.RWMutex
	streams map[string]*stream
	notify  chan struct{} // closed and replaced whenever a head moves
	closed  bool

	readers readerPool
}

var _ journal.Store = (*Store)(nil)

// stream is one journal stream: its topics, its published (durable and
// indexed) head, and its writer or follower.
type stream struct {
	name, topic, ckptTopic string
	id                     uint32 // cache id

	acq   sync.Mutex
	ready chan struct{} // closed once the stream is loaded

	// Guarded by Store.mu.
	head   cachedHead
	cr     *journal.CompactRange
	ckpt   *journal.SignedCheckpoint
	failed error // the topic or index is inconsistent: reads and appends fail
	w      *writer
	f      *follower

	ov overlay // acknowledged records not in the cache yet (own lock)
}

func (st *stream) published() journal.Head {
	return journal.Head{Stream: st.name, Seq: st.head.seq, Hash: st.head.hash, Root: st.cr.Root()}
}

// Open connects to Pulsar, checks the namespace (deduplication on), opens
// the local index and brings every stream's index up to its topic's end.
// ctx bounds the start only.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir %s: %w", cfg.Dir, err)
	}
	s := &Store{cfg: cfg, log: log, admin: newAdmin(cfg), streams: map[string]*stream{}, notify: make(chan struct{})}
	// The client logs every reader and producer it opens at Info: that is
	// Debug for us.
	s.plog = plog.NewLoggerWithSlog(slog.New(quieter{log.Handler()}).With("component", "pulsar-client"))
	s.reg = cfg.Metrics
	if s.reg == nil {
		s.reg = prometheus.NewRegistry()
	}
	skey, err := cfg.loadSigningKey(log)
	if err != nil {
		return nil, err
	}
	if s.signer, err = journal.NewSigner(skey); err != nil {
		return nil, err
	}
	if s.vkey, err = journal.VerifierKeyFromSigningKey(skey); err != nil {
		return nil, err
	}
	if err := s.admin.prepareNamespace(ctx, cfg.ManageNamespace); err != nil {
		return nil, err
	}
	if s.client, err = s.newClient(0); err != nil {
		return nil, err
	}
	if s.cache, err = openCache(cfg, log); err != nil {
		s.client.Close()
		return nil, err
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wctx, s.wcancel = context.WithCancel(context.Background())
	s.readers.init(s)
	if err := s.discover(ctx, ""); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// newClient makes a client; memLimit 0 is the client's default (64 MiB),
// -1 none (writers bound their sends themselves).
func (s *Store) newClient(memLimit int64) (pulsar.Client, error) {
	c, err := pulsar.NewClient(pulsar.ClientOptions{
		URL:               s.cfg.ServiceURL,
		ConnectionTimeout: s.cfg.OperationTimeout,
		OperationTimeout:  s.cfg.OperationTimeout,
		Logger:            s.plog,
		MetricsRegisterer: s.reg,
		MemoryLimitBytes:  memLimit,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: client for %s: %v", ErrBrokerUnreachable, s.cfg.ServiceURL, err)
	}
	return c, nil
}

// backoff caps reconnection waits at ReconnectMaxBackoff (the client's
// default grows to a minute, which would stretch a broker restart).
func (s *Store) backoff() backoff.Policy {
	return &cappedBackoff{max: s.cfg.ReconnectMaxBackoff}
}

type cappedBackoff struct {
	next, max time.Duration
}

func (b *cappedBackoff) Next() time.Duration {
	if b.next == 0 {
		b.next = 100 * time.Millisecond
	} else if b.next *= 2; b.next > b.max {
		b.next = b.max
	}
	return b.next
}
func (b *cappedBackoff) IsMaxBackoffReached() bool { return b.next >= b.max }
func (b *cappedBackoff) Reset()                    { b.next = 0 }

// quieter lowers Info records to Debug.
type quieter struct{ h slog.Handler }

func (q quieter) Enabled(ctx context.Context, l slog.Level) bool {
	if l == slog.LevelInfo {
		l = slog.LevelDebug
	}
	return q.h.Enabled(ctx, l)
}

func (q quieter) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelInfo {
		r.Level = slog.LevelDebug
	}
	return q.h.Handle(ctx, r)
}

func (q quieter) WithAttrs(as []slog.Attr) slog.Handler { return quieter{q.h.WithAttrs(as)} }
func (q quieter) WithGroup(name string) slog.Handler    { return quieter{q.h.WithGroup(name)} }

// discover loads the streams whose topics exist in the namespace: all of
// them (only == ""), or just one.
func (s *Store) discover(ctx context.Context, only string) error {
	topics, err := s.admin.topics(ctx)
	if err != nil {
		return err
	}
	for _, t := range topics {
		name := s.cfg.streamOfTopic(t)
		if name == "" || t != s.cfg.EntriesTopic(name) || (only != "" && name != only) {
			continue
		}
		if _, err := s.load(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

// load returns the stream, registering it and bringing its index up to the
// topic's end on first use.
func (s *Store) load(ctx context.Context, name string) (*stream, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, journal.ErrClosed
	}
	st, ok := s.streams[name]
	if !ok {
		st = &stream{name: name, topic: s.cfg.EntriesTopic(name), ckptTopic: s.cfg.CheckpointTopic(name),
			cr: &journal.CompactRange{}, ready: make(chan struct{})}
		s.streams[name] = st
	}
	s.mu.Unlock()
	if ok {
		select {
		case <-st.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		s.mu.RLock()
		_, still := s.streams[name]
		s.mu.RUnlock()
		if !still {
			return nil, fmt.Errorf("stream %s could not be loaded (see the log)", name)
		}
		return st, nil
	}
	defer close(st.ready)
	st.acq.Lock()
	defer st.acq.Unlock()
	if err := s.loadStream(ctx, st); err != nil {
		s.mu.Lock()
		delete(s.streams, name)
		s.mu.Unlock()
		return nil, err
	}
	if s.cfg.Follow {
		s.startFollower(st)
	}
	return st, nil
}

// loadStream reads the cached head, checks it against the topic and catches up.
func (s *Store) loadStream(ctx context.Context, st *stream) error {
	id, err := s.cache.streamID(st.name)
	if err != nil {
		return err
	}
	st.id = id
	h, ok, err := s.cache.head(id)
	if err == nil && ok {
		var cr *journal.CompactRange
		cr, err = s.checkCachedHead(ctx, st, h)
		if err == nil {
			s.mu.Lock()
			st.head, st.cr = h, cr
			s.mu.Unlock()
		}
	}
	if err != nil {
		if !errors.Is(err, journal.ErrCorrupt) || errors.Is(err, errTopicBehind) {
			return fmt.Errorf("stream %s: %w", st.name, err)
		}
		s.log.Warn("local index of stream does not match its topic; rebuilding it", "stream", st.name, "err", err)
		if err := s.cache.dropStream(id); err != nil {
			return err
		}
	}
	if err := s.catchUp(ctx, st); err != nil {
		if !errors.Is(err, journal.ErrCorrupt) {
			return fmt.Errorf("stream %s: %w", st.name, err)
		}
		s.setFailed(st, err)
	}
	if err := s.loadCheckpoint(ctx, st); err != nil {
		if !errors.Is(err, journal.ErrCorrupt) {
			return fmt.Errorf("stream %s: %w", st.name, err)
		}
		s.setFailed(st, err)
	}
	return nil
}

var errTopicBehind = errors.New("topic behind index")

// checkCachedHead rebuilds the Merkle edge from the cache and checks that the
// topic still holds the cached head entry at the cached position.
func (s *Store) checkCachedHead(ctx context.Context, st *stream, h cachedHead) (*journal.CompactRange, error) {
	rec, err := s.cache.record(st.id, h.seq)
	if err != nil || rec.hash != h.hash || rec.pos != h.last {
		return nil, fmt.Errorf("%w: head record of seq %d is missing or differs (%v)", journal.ErrCorrupt, h.seq, err)
	}
	cr, err := journal.NewCompactRange(h.seq, hashReader{c: s.cache, id: st.id})
	if err != nil {
		return nil, err
	}
	r, err := s.openReader(st.topic, h.last, true)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	last, err := lastPosition(r)
	if err != nil {
		return nil, err
	}
	if last.cmp(h.last) < 0 {
		return nil, fmt.Errorf("%w: %w: topic %s ends at message %s, but this node indexed seq %d at message %s: "+
			"entries were lost from Pulsar (topic deleted and re-created? retention?). If that is intended, delete %s/cache",
			journal.ErrCorrupt, errTopicBehind, st.topic, last, h.seq, h.last, s.cfg.Dir)
	}
	m, err := nextMessage(ctx, r, s.cfg.OperationTimeout)
	if err != nil {
		return nil, err
	}
	if posOf(m.ID()) != h.last || journal.HashEntryBytes(m.Payload()) != h.hash {
		return nil, fmt.Errorf("%w: topic %s holds another entry at message %s than the index", journal.ErrCorrupt, st.topic, h.last)
	}
	return cr, nil
}

func (s *Store) setFailed(st *stream, err error) {
	s.log.Error("stream is not usable", "stream", st.name, "err", err)
	s.mu.Lock()
	if st.failed == nil {
		st.failed = err
	}
	s.mu.Unlock()
}

// publish makes a new indexed head visible and wakes waiters.
func (s *Store) publish(st *stream, h cachedHead, cr *journal.CompactRange) {
	s.mu.Lock()
	st.head, st.cr = h, cr
	close(s.notify)
	s.notify = make(chan struct{})
	s.mu.Unlock()
}

// lookup returns a known stream with entries, loading it from Pulsar if
// another node created it.
func (s *Store) lookup(ctx context.Context, name string) (*stream, journal.Head, error) {
	s.mu.RLock()
	closed := s.closed
	st, ok := s.streams[name]
	s.mu.RUnlock()
	var h journal.Head
	if closed {
		return nil, h, journal.ErrClosed
	}
	if !ok {
		if err := validStream(name); err != nil {
			return nil, h, err
		}
		if err := s.discover(ctx, name); err != nil {
			return nil, h, err
		}
		s.mu.RLock()
		st, ok = s.streams[name]
		s.mu.RUnlock()
	}
	if ok {
		select {
		case <-st.ready:
		case <-ctx.Done():
			return nil, h, ctx.Err()
		}
		s.mu.RLock()
		failed := st.failed
		h = st.published()
		s.mu.RUnlock()
		if failed != nil {
			return nil, h, failed
		}
	}
	if !ok || h.Seq == 0 {
		return nil, h, fmt.Errorf("%w: %q (cairn verify lists every stream)", journal.ErrUnknownStream, name)
	}
	return st, h, nil
}

// Head returns the durable, indexed end of a stream.
func (s *Store) Head(ctx context.Context, stream string) (journal.Head, error) {
	_, h, err := s.lookup(ctx, stream)
	return h, err
}

// Streams lists every stream's head, ordered by name, including streams
// other nodes write.
func (s *Store) Streams(ctx context.Context) ([]journal.Head, error) {
	if err := s.discover(ctx, ""); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, journal.ErrClosed
	}
	out := make([]journal.Head, 0, len(s.streams))
	for _, st := range s.streams {
		if st.head.seq > 0 {
			out = append(out, st.published())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Stream < out[j].Stream })
	return out, nil
}

// HighWater returns the highest durable source position of a stream.
func (s *Store) HighWater(ctx context.Context, stream string) ([]byte, error) {
	st, _, err := s.lookup(ctx, stream)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]byte(nil), st.head.highWater...), nil
}

// Wait blocks until the stream's head is past after. A stream that does not
// exist yet is looked for in Pulsar every DiscoverInterval.
func (s *Store) Wait(ctx context.Context, stream string, after uint64) (journal.Head, error) {
	if err := validStream(stream); err != nil {
		return journal.Head{}, err
	}
	var tick <-chan time.Time
	for {
		s.mu.RLock()
		if s.closed {
			s.mu.RUnlock()
			return journal.Head{}, journal.ErrClosed
		}
		ch := s.notify
		st, ok := s.streams[stream]
		if ok && st.head.seq > after {
			h := st.published()
			s.mu.RUnlock()
			return h, nil
		}
		s.mu.RUnlock()
		if !ok && tick == nil {
			t := time.NewTicker(s.cfg.DiscoverInterval)
			defer t.Stop()
			tick = t.C
		}
		select {
		case <-ch:
		case <-tick:
			if err := s.discover(ctx, stream); err != nil && ctx.Err() == nil {
				s.log.Warn("looking for stream topic", "stream", stream, "err", err)
			}
		case <-ctx.Done():
			return journal.Head{}, ctx.Err()
		}
	}
}

// VerifierKey returns the public key text that verifies this store's checkpoints.
func (s *Store) VerifierKey() string { return s.vkey }

// Close drains pending appends, signs and stores a final checkpoint of every
// stream this node writes, releases the producers and closes the index.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	streams := make([]*stream, 0, len(s.streams))
	for _, st := range s.streams {
		streams = append(streams, st)
	}
	close(s.notify)
	s.notify = make(chan struct{})
	s.mu.Unlock()
	s.cancel() // interrupts acquisitions and followers
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.OperationTimeout)
	defer cancel()
	var errs []error
	for _, st := range streams {
		st.acq.Lock()
		if err := s.release(ctx, st); err != nil {
			errs = append(errs, err)
		}
		s.stopFollower(st)
		st.acq.Unlock()
	}
	s.bg.Wait()
	s.wcancel()
	s.readers.closeAll()
	s.client.Close()
	if err := s.cache.close(); err != nil {
		errs = append(errs, fmt.Errorf("close local index: %w", err))
	}
	return errors.Join(errs...)
}
