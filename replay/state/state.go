// Package state is the durable key-value store behind replay's named
// subscription checkpoints and consumer groups. It is a Badger database of
// its own (<data_dir>/state), separate from the journal, so that consumer
// bookkeeping never competes with the journal's group commit and works the
// same whichever journal backend is in use.
//
// Every Update is atomic and durable (fsynced) when it returns.
package state

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/ristretto/v2/z"
)

// KV is one key and value to write.
type KV struct {
	Key, Value []byte
}

// DB is the state store.
type DB struct {
	db     *badger.DB
	log    *slog.Logger
	closed atomic.Bool // Badger blocks forever on a write after Close
}

// ErrClosed is returned after Close.
var ErrClosed = errors.New("state store is closed")

// Open opens (or creates) the state store in dir. A non-empty key encrypts it
// at rest with the same AES key as the journal.
func Open(dir string, encryptionKey []byte, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts := badger.DefaultOptions(dir).
		WithLogger(nil).
		WithSyncWrites(true).
		WithNumVersionsToKeep(1).
		WithMetricsEnabled(false).
		WithMemTableSize(8 << 20).
		WithBlockCacheSize(8 << 20).
		WithValueThreshold(1 << 10)
	if len(encryptionKey) > 0 {
		opts = opts.WithEncryptionKey(encryptionKey).WithIndexCacheSize(8 << 20)
	}
	db, err := badger.Open(opts)
	if err != nil && strings.Contains(err.Error(), z.NewFile.Error()) {
		// A SIGKILL can leave an unsized memtable file that fails the first
		// Open only (dgraph-io/badger#2207); it never held data.
		db, err = badger.Open(opts)
	}
	if err != nil {
		return nil, fmt.Errorf("open consumer state in %s: %w", dir, err)
	}
	return &DB{db: db, log: log}, nil
}

// Get returns the value stored under key, or nil when there is none.
func (d *DB) Get(key []byte) ([]byte, error) {
	if d.closed.Load() {
		return nil, ErrClosed
	}
	var out []byte
	err := d.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(key)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		out, err = it.ValueCopy(nil)
		return err
	})
	if errors.Is(err, badger.ErrDBClosed) {
		return nil, ErrClosed
	}
	return out, err
}

// Scan calls fn for every key with the given prefix, in key order. The slices
// are only valid during the call.
func (d *DB) Scan(prefix []byte, fn func(key, value []byte) error) error {
	return d.ScanFrom(prefix, prefix, fn)
}

// ScanFrom is Scan starting at the first key >= start (start should begin
// with prefix), so paging through a long range does not walk it from the top.
func (d *DB) ScanFrom(prefix, start []byte, fn func(key, value []byte) error) error {
	if d.closed.Load() {
		return ErrClosed
	}
	return d.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Seek(start); it.ValidForPrefix(prefix); it.Next() {
			item := it.Item()
			err := item.Value(func(v []byte) error { return fn(item.Key(), v) })
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// Update writes puts and removes deletes in one atomic, durable step.
func (d *DB) Update(puts []KV, deletes [][]byte) error {
	if d.closed.Load() {
		return ErrClosed
	}
	wb := d.db.NewWriteBatch()
	defer wb.Cancel()
	for _, kv := range puts {
		if err := wb.Set(bytes.Clone(kv.Key), bytes.Clone(kv.Value)); err != nil {
			return fmt.Errorf("write consumer state: %w", err)
		}
	}
	for _, k := range deletes {
		if err := wb.Delete(bytes.Clone(k)); err != nil {
			return fmt.Errorf("write consumer state: %w", err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("write consumer state: %w", err)
	}
	return nil
}

// Close closes the store.
func (d *DB) Close() error {
	if d.closed.Swap(true) {
		return nil
	}
	return d.db.Close()
}
