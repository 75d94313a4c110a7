package badgerstore

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/ristretto/v2/z"
	"golang.org/x/mod/sumdb/note"

	"github.com/cairnlog/cairn/journal"
)

// Store is the embedded Badger journal. One committer goroutine turns
// concurrent Append calls into groups that share one transaction and one
// sync (group commit).
//
// Lock order: Store.mu is the only lock. The committer holds it only to
// publish a durable group; readers hold it only to copy a stream's head.
type Store struct {
	cfg    Config
	db     *badger.DB
	log    *slog.Logger
	signer note.Signer
	vkey   string

	reqs    chan *request
	stop    chan struct{}
	stopped chan struct{}

	mu      sync.RWMutex
	streams map[string]*streamState // published (durable) state
	notify  chan struct{}           // closed and replaced after each durable group
	failed  error                   // set when a write failed; every later append fails
	closed  bool

	// committer-only
	work         map[string]*work
	commits      sync.WaitGroup // transactions committed asynchronously and not yet applied
	lastSyncReqs atomic.Int64   // requests answered by the last sync
	syncBusy     atomic.Bool    // the syncer is waiting on a sync
	syncEnded    chan struct{}  // signalled (cap 1) after each sync
	nextID       uint32
	producers    map[uint32]map[string]uint64 // highest producer_seq seen, loaded lazily
}

type streamState struct {
	id        uint32
	name      string
	seq       uint64
	hash      journal.Hash
	highWater []byte
	cr        *journal.CompactRange
	ckptSize  uint64
	ckptAt    time.Time
}

func (st *streamState) head() journal.Head {
	return journal.Head{Stream: st.name, Seq: st.seq, Hash: st.hash, Root: st.cr.Root()}
}

type meta struct {
	Format    int  `json:"format"`
	Encrypted bool `json:"encrypted"`
}

const metaFile = "cairn.json"

// Open opens (or creates) the store described by cfg.
func Open(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	dbDir := filepath.Join(cfg.Dir, "journal")
	if err := checkDir(cfg, dbDir); err != nil {
		return nil, err
	}
	m, err := loadMeta(cfg)
	if err != nil {
		return nil, err
	}
	opts := badger.DefaultOptions(dbDir).
		WithLogger(badgerLogger{log}).
		WithSyncWrites(false).
		WithDetectConflicts(false).
		WithNumVersionsToKeep(1).
		WithMetricsEnabled(false).
		WithValueThreshold(cfg.ValueThreshold).
		WithMemTableSize(cfg.MemTableSize).
		WithNumMemtables(cfg.NumMemtables).
		WithBlockCacheSize(cfg.BlockCacheSize).
		WithReadOnly(cfg.ReadOnly)
	if len(cfg.EncryptionKey) > 0 {
		opts = opts.WithEncryptionKey(cfg.EncryptionKey).
			WithEncryptionKeyRotationDuration(cfg.KeyRotation).
			WithIndexCacheSize(64 << 20)
	}
	db, err := badger.Open(opts)
	if err != nil && !cfg.ReadOnly && mentions(err, z.NewFile) {
		// A crash between Badger creating a memtable file and sizing it leaves
		// a zero-length .mem file, and the next Open fails with z.NewFile
		// after sizing it (dgraph-io/badger#2207). The file never held data,
		// so nothing is lost; the second Open finds it sized and goes on.
		log.Warn("journal was not closed cleanly (empty memtable file); opening again to recover", "dir", cfg.Dir)
		db, err = badger.Open(opts)
	}
	if err != nil {
		return nil, openError(cfg, m, err)
	}
	s := &Store{
		cfg: cfg, db: db, log: log,
		reqs: make(chan *request, 1024), stop: make(chan struct{}), stopped: make(chan struct{}),
		streams: map[string]*streamState{}, notify: make(chan struct{}),
		producers: map[uint32]map[string]uint64{}, work: map[string]*work{},
		syncEnded: make(chan struct{}, 1),
	}
	if err := s.loadSigner(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.loadStreams(); err != nil {
		db.Close()
		return nil, err
	}
	if cfg.ReadOnly {
		close(s.stopped)
	} else {
		go s.commitLoop()
	}
	return s, nil
}

func checkDir(cfg Config, dbDir string) error {
	if _, err := os.Stat(dbDir); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("data dir %s: %w", cfg.Dir, err)
		}
		if cfg.MustExist || cfg.ReadOnly {
			return fmt.Errorf("%w: %s has no journal (check --data-dir, or append to create one)", journal.ErrNoDataDir, cfg.Dir)
		}
		if err := os.MkdirAll(dbDir, 0o700); err != nil {
			return fmt.Errorf("create data dir %s: %w", cfg.Dir, err)
		}
	}
	return nil
}

func loadMeta(cfg Config) (meta, error) {
	path := filepath.Join(cfg.Dir, metaFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		m := meta{Format: 1, Encrypted: len(cfg.EncryptionKey) > 0}
		if cfg.ReadOnly {
			return m, nil
		}
		b, _ = json.Marshal(m)
		if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
			return m, fmt.Errorf("write %s: %w", path, err)
		}
		return m, nil
	}
	if err != nil {
		return meta{}, fmt.Errorf("read %s: %w", path, err)
	}
	var m meta
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%w: %s: %v", journal.ErrCorrupt, path, err)
	}
	if m.Encrypted && len(cfg.EncryptionKey) == 0 {
		return m, fmt.Errorf("%w: data dir %s is encrypted: give its key with --encryption-key-file or CAIRN_ENCRYPTION_KEY", journal.ErrEncryptionKey, cfg.Dir)
	}
	if !m.Encrypted && len(cfg.EncryptionKey) > 0 {
		return m, fmt.Errorf("%w: data dir %s is not encrypted but a key was given: drop the key, or start a new data dir to encrypt", journal.ErrEncryptionKey, cfg.Dir)
	}
	return m, nil
}

// ErrUncleanShutdown is returned by a read-only Open of a journal whose last
// writer crashed and left files only a read-write Open can repair (a torn
// write-ahead log, an unsized memtable file). The repair drops only bytes
// that were never acknowledged.
var ErrUncleanShutdown = errors.New("journal was not closed cleanly; open it read-write once to recover")

// uncleanShutdown reports whether a read-only badger.Open failed on crash
// leftovers.
func uncleanShutdown(err error) bool {
	return mentions(err, badger.ErrTruncateNeeded) || mentions(err, z.NewFile) ||
		strings.Contains(err.Error(), "error while truncation")
}

// mentions reports whether err is or wraps target. Badger's y.Wrapf flattens
// the chain into text, so the message is matched as well.
func mentions(err, target error) bool {
	return errors.Is(err, target) || strings.Contains(err.Error(), target.Error())
}

func openError(cfg Config, m meta, err error) error {
	switch {
	case errors.Is(err, badger.ErrEncryptionKeyMismatch):
		if m.Encrypted {
			return fmt.Errorf("%w: the key given does not open data dir %s (wrong key?)", journal.ErrEncryptionKey, cfg.Dir)
		}
		return fmt.Errorf("%w: data dir %s: %v", journal.ErrEncryptionKey, cfg.Dir, err)
	case cfg.ReadOnly && uncleanShutdown(err):
		return fmt.Errorf("%w: %s: %v", ErrUncleanShutdown, cfg.Dir, err)
	case strings.Contains(err.Error(), "Cannot acquire directory lock"):
		return fmt.Errorf("%w: %s is in use (is cairnd or another cairn command running on it?)", journal.ErrLocked, cfg.Dir)
	}
	return fmt.Errorf("open journal in %s: %w", cfg.Dir, err)
}

func (s *Store) loadSigner() error {
	skey := s.cfg.SigningKey
	if skey == "" {
		path := filepath.Join(s.cfg.Dir, "signing.key")
		b, err := os.ReadFile(path)
		switch {
		case err == nil:
			skey = string(b)
		case errors.Is(err, os.ErrNotExist) && !s.cfg.ReadOnly:
			var vkey string
			skey, vkey, err = journal.GenerateSigningKey(s.cfg.LogName)
			if err != nil {
				return err
			}
			if err := os.WriteFile(path, []byte(skey+"\n"), 0o600); err != nil {
				return fmt.Errorf("write signing key %s: %w", path, err)
			}
			if err := os.WriteFile(filepath.Join(s.cfg.Dir, "signing.pub"), []byte(vkey+"\n"), 0o644); err != nil {
				return fmt.Errorf("write public key: %w", err)
			}
		case errors.Is(err, os.ErrNotExist):
			return nil // read-only store without a key: no signing, verification uses signing.pub
		default:
			return fmt.Errorf("read signing key %s: %w", path, err)
		}
	}
	signer, err := journal.NewSigner(skey)
	if err != nil {
		return err
	}
	s.signer = signer
	vkey, err := journal.VerifierKeyFromSigningKey(skey)
	if err != nil {
		return err
	}
	s.vkey = vkey
	return nil
}

func (s *Store) loadStreams() error {
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixStream}, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			name := string(item.Key()[1:])
			v, err := item.ValueCopy(nil)
			if err != nil || len(v) != 4 {
				return fmt.Errorf("%w: stream record %q", journal.ErrCorrupt, name)
			}
			st := &streamState{id: binary.BigEndian.Uint32(v), name: name, cr: &journal.CompactRange{}}
			if st.id >= s.nextID {
				s.nextID = st.id + 1
			}
			if err := s.loadHead(txn, st); err != nil {
				return err
			}
			s.streams[name] = st
			s.work[name] = &work{st: st, seq: st.seq, hash: st.hash, highWater: st.highWater, cr: st.cr.Clone(),
				ckptSize: st.ckptSize, known: true, committed: st.seq}
		}
		if s.nextID == 0 {
			s.nextID = 1
		}
		return nil
	})
}

func (s *Store) loadHead(txn *badger.Txn, st *streamState) error {
	item, err := txn.Get(idKey(prefixHead, st.id))
	if err != nil {
		return fmt.Errorf("%w: stream %s has no head record: %v", journal.ErrCorrupt, st.name, err)
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return fmt.Errorf("read head of %s: %w", st.name, err)
	}
	h, err := decodeHead(v)
	if err != nil {
		return fmt.Errorf("stream %s: %w", st.name, err)
	}
	st.seq, st.hash, st.highWater = h.seq, h.hash, h.highWater
	// The last entry key must be the head: groups commit atomically with their head.
	last, err := lastEntrySeq(txn, st.id)
	if err != nil {
		return err
	}
	if last != st.seq {
		return fmt.Errorf("%w: stream %s: the head record says seq %d but the last stored entry is %d; the data dir was changed outside Cairn. Restore it from a backup", journal.ErrCorrupt, st.name, st.seq, last)
	}
	st.cr, err = journal.NewCompactRange(st.seq, hashReader{s: s, txn: txn, id: st.id})
	if err != nil {
		return fmt.Errorf("stream %s: %w", st.name, err)
	}
	if item, err := txn.Get(idKey(prefixCheckpoint, st.id)); err == nil {
		b, err := item.ValueCopy(nil)
		if err != nil {
			return fmt.Errorf("read checkpoint of %s: %w", st.name, err)
		}
		c, err := journal.ParseSignedCheckpoint(b)
		if err != nil {
			return fmt.Errorf("stream %s: stored checkpoint: %w", st.name, err)
		}
		if c.Size > st.seq {
			return fmt.Errorf("%w: stream %s: the latest signed checkpoint covers %d entries but the journal ends at seq %d, so seq %d to %d are lost "+
				"(restored from an older backup?); refusing to open, because new appends would reuse their seqs. Restore the newest backup of %s",
				journal.ErrCorrupt, st.name, c.Size, st.seq, st.seq+1, c.Size, s.cfg.Dir)
		}
		st.ckptSize = c.Size
	}
	return nil
}

func lastEntrySeq(txn *badger.Txn, id uint32) (uint64, error) {
	it := txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: idKey(prefixEntry, id)})
	defer it.Close()
	it.Seek(entryKey(id, ^uint64(0)))
	if !it.Valid() {
		return 0, nil
	}
	k := it.Item().Key()
	if len(k) != 13 {
		return 0, fmt.Errorf("%w: entry key %x", journal.ErrCorrupt, k)
	}
	return binary.BigEndian.Uint64(k[5:]), nil
}

// VerifierKey returns the public key text that verifies this store's checkpoints.
func (s *Store) VerifierKey() string { return s.vkey }

// Close drains pending appends, signs a final checkpoint per stream and closes Badger.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	<-s.stopped
	s.mu.Lock()
	close(s.notify)
	s.notify = make(chan struct{})
	s.mu.Unlock()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close journal: %w", err)
	}
	return nil
}

func (s *Store) stream(name string) (*streamState, journal.Head, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, journal.Head{}, journal.ErrClosed
	}
	st, ok := s.streams[name]
	if !ok {
		return nil, journal.Head{}, fmt.Errorf("%w: %q (cairn verify lists every stream)", journal.ErrUnknownStream, name)
	}
	return st, st.head(), nil
}

// Head returns the durable end of a stream.
func (s *Store) Head(ctx context.Context, stream string) (journal.Head, error) {
	_, h, err := s.stream(stream)
	return h, err
}

// Streams lists every stream's head, ordered by name.
func (s *Store) Streams(ctx context.Context) ([]journal.Head, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, journal.ErrClosed
	}
	out := make([]journal.Head, 0, len(s.streams))
	for _, st := range s.streams {
		out = append(out, st.head())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Stream < out[j].Stream })
	return out, nil
}

// HighWater returns the highest durable source position of a stream.
func (s *Store) HighWater(ctx context.Context, stream string) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, ok := s.streams[stream]
	if !ok {
		return nil, fmt.Errorf("%w: %q", journal.ErrUnknownStream, stream)
	}
	return append([]byte(nil), st.highWater...), nil
}

// Wait blocks until the stream's durable head passes after.
func (s *Store) Wait(ctx context.Context, stream string, after uint64) (journal.Head, error) {
	for {
		s.mu.RLock()
		if s.closed {
			s.mu.RUnlock()
			return journal.Head{}, journal.ErrClosed
		}
		ch := s.notify
		if st, ok := s.streams[stream]; ok && st.seq > after {
			h := st.head()
			s.mu.RUnlock()
			return h, nil
		}
		s.mu.RUnlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return journal.Head{}, ctx.Err()
		}
	}
}

type badgerLogger struct{ log *slog.Logger }

func (l badgerLogger) Errorf(f string, a ...any) {
	l.log.Error("badger: " + strings.TrimSpace(fmt.Sprintf(f, a...)))
}
func (l badgerLogger) Warningf(f string, a ...any) {
	l.log.Warn("badger: " + strings.TrimSpace(fmt.Sprintf(f, a...)))
}
func (l badgerLogger) Infof(f string, a ...any)  {}
func (l badgerLogger) Debugf(f string, a ...any) {}
