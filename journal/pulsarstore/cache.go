package pulsarstore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/cairnlog/cairn/journal"
)

// The local index (Dir/cache) is a Badger database that only ever holds
// what can be rebuilt from the entries topics. Key layout (integers
// big-endian):
//
//	'M'                            -> JSON {format, namespace, prefix}
//	'S' name                       -> u32 stream id
//	'H' id                         -> head: u64 seq | [32] hash | i64 ledger | i64 entry | u32 n | n bytes high-water position
//	'R' id u64 seq                 -> record: u8 format | [32] entry hash | i64 ledger | i64 entry | u8 n | n x [32] Merkle nodes, levels 1..n
//	'P' id u16 len producer u64 n  -> u64 seq of (producer_id, producer_seq)
//	'Q' id position                -> u64 seq of the entry at that source position
//
// Writes are not synced: a crash may lose the newest writes, which the next
// catch-up reads again from the topic. A record is written only after the
// broker acknowledged (or the topic delivered) its entry, so the cache never
// runs ahead of the topic.
const (
	keyMeta     = 'M'
	keyStream   = 'S'
	keyHead     = 'H'
	keyRecord   = 'R'
	keyProducer = 'P'
	keyPosition = 'Q'

	cacheFormat  = 1
	recordFormat = 1
	recordFixed  = 1 + 32 + 16 + 1
)

// msgPos is a message's position in its topic: ledger and entry id.
// (-1, -1) is "none" (an empty topic, or an acknowledgement of a duplicate).
type msgPos struct{ ledger, entry int64 }

var noPos = msgPos{-1, -1}

func (p msgPos) valid() bool { return p.ledger >= 0 && p.entry >= 0 }

func (p msgPos) String() string { return fmt.Sprintf("%d:%d", p.ledger, p.entry) }

// cmp orders positions within one topic.
func (p msgPos) cmp(q msgPos) int {
	switch {
	case p.ledger != q.ledger:
		if p.ledger < q.ledger {
			return -1
		}
		return 1
	case p.entry != q.entry:
		if p.entry < q.entry {
			return -1
		}
		return 1
	}
	return 0
}

// cachedHead is a stream's indexed end.
type cachedHead struct {
	seq       uint64
	hash      journal.Hash
	last      msgPos // message of entry seq
	highWater []byte
}

// indexRec is one entry's index data.
type indexRec struct {
	seq      uint64
	hash     journal.Hash
	pos      msgPos
	nodes    []journal.Hash // Merkle nodes completed by this leaf, levels 1..n
	srcPos   []byte
	producer string
	pseq     uint64
}

type cache struct {
	db     *badger.DB
	mu     sync.Mutex // guards ids and nextID
	ids    map[string]uint32
	nextID uint32
}

type cacheMeta struct {
	Format    int    `json:"format"`
	Namespace string `json:"namespace"`
	Prefix    string `json:"prefix"`
}

// openCache opens Dir/cache. A cache made for another namespace or prefix
// (or an unreadable one) is deleted and started afresh: it is only an index.
func openCache(cfg Config, log *slog.Logger) (*cache, error) {
	dir := filepath.Join(cfg.Dir, "cache")
	want := cacheMeta{Format: cacheFormat, Namespace: cfg.Namespace, Prefix: cfg.TopicPrefix}
	for attempt := 0; ; attempt++ {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create cache dir %s: %w", dir, err)
		}
		opts := badger.DefaultOptions(dir).WithLogger(nil).WithSyncWrites(false).
			WithDetectConflicts(false).WithNumVersionsToKeep(1).WithMetricsEnabled(false).
			WithValueThreshold(1 << 10).WithMemTableSize(16 << 20).WithNumMemtables(2).
			WithBlockCacheSize(16 << 20).WithCompression(options.None).WithNumCompactors(2)
		db, err := badger.Open(opts)
		if err != nil {
			if strings.Contains(err.Error(), "Cannot acquire directory lock") {
				return nil, fmt.Errorf("%w: %s is in use (is another cairnd running on this data dir?)", journal.ErrLocked, dir)
			}
			if attempt > 0 {
				return nil, fmt.Errorf("open cache %s: %w", dir, err)
			}
			log.Warn("local index does not open; rebuilding it from Pulsar", "dir", dir, "err", err)
			if err := os.RemoveAll(dir); err != nil {
				return nil, fmt.Errorf("remove broken cache %s: %w", dir, err)
			}
			continue
		}
		c := &cache{db: db, ids: map[string]uint32{}, nextID: 1}
		got, ok, err := c.meta()
		if err == nil && ok && got == want {
			if err := c.loadIDs(); err == nil {
				return c, nil
			}
		}
		if err == nil && !ok {
			if err := c.setMeta(want); err != nil {
				db.Close()
				return nil, err
			}
			return c, nil
		}
		db.Close()
		if attempt > 0 {
			return nil, fmt.Errorf("cache %s: cannot be reset", dir)
		}
		log.Warn("local index belongs to another namespace or format; rebuilding it from Pulsar", "dir", dir, "had", got, "want", want)
		if err := os.RemoveAll(dir); err != nil {
			return nil, fmt.Errorf("remove stale cache %s: %w", dir, err)
		}
	}
}

func (c *cache) close() error { return c.db.Close() }

func (c *cache) meta() (cacheMeta, bool, error) {
	var m cacheMeta
	var ok bool
	err := c.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte{keyMeta})
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		ok = true
		return item.Value(func(v []byte) error { return json.Unmarshal(v, &m) })
	})
	return m, ok, err
}

func (c *cache) setMeta(m cacheMeta) error {
	b, _ := json.Marshal(m)
	return c.db.Update(func(txn *badger.Txn) error { return txn.Set([]byte{keyMeta}, b) })
}

func (c *cache) loadIDs() error {
	return c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{keyStream}, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil || len(v) != 4 {
				return fmt.Errorf("%w: cache stream record", journal.ErrCorrupt)
			}
			id := binary.BigEndian.Uint32(v)
			c.ids[string(it.Item().Key()[1:])] = id
			if id >= c.nextID {
				c.nextID = id + 1
			}
		}
		return nil
	})
}

// streamID returns the cache id of a stream, assigning one on first use.
func (c *cache) streamID(name string) (uint32, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id, ok := c.ids[name]; ok {
		return id, nil
	}
	id := c.nextID
	err := c.db.Update(func(txn *badger.Txn) error {
		return txn.Set(append([]byte{keyStream}, name...), binary.BigEndian.AppendUint32(nil, id))
	})
	if err != nil {
		return 0, fmt.Errorf("cache: register stream %s: %w", name, err)
	}
	c.ids[name] = id
	c.nextID++
	return id, nil
}

func idKey(prefix byte, id uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{prefix}, id)
}

func recordKey(id uint32, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(idKey(keyRecord, id), seq)
}

func producerKey(id uint32, producer string, n uint64) []byte {
	k := idKey(keyProducer, id)
	k = binary.BigEndian.AppendUint16(k, uint16(len(producer)))
	k = append(k, producer...)
	return binary.BigEndian.AppendUint64(k, n)
}

func positionKey(id uint32, pos []byte) []byte { return append(idKey(keyPosition, id), pos...) }

func encodeHead(h cachedHead) []byte {
	b := make([]byte, 0, 60+len(h.highWater))
	b = binary.BigEndian.AppendUint64(b, h.seq)
	b = append(b, h.hash[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(h.last.ledger))
	b = binary.BigEndian.AppendUint64(b, uint64(h.last.entry))
	b = binary.BigEndian.AppendUint32(b, uint32(len(h.highWater)))
	return append(b, h.highWater...)
}

func decodeHead(b []byte) (cachedHead, error) {
	var h cachedHead
	if len(b) < 60 || uint64(binary.BigEndian.Uint32(b[56:])) != uint64(len(b)-60) {
		return h, fmt.Errorf("%w: cache head record (%d bytes)", journal.ErrCorrupt, len(b))
	}
	h.seq = binary.BigEndian.Uint64(b)
	copy(h.hash[:], b[8:40])
	h.last = msgPos{int64(binary.BigEndian.Uint64(b[40:])), int64(binary.BigEndian.Uint64(b[48:]))}
	if len(b) > 60 {
		h.highWater = append([]byte(nil), b[60:]...)
	}
	return h, nil
}

func encodeRecord(r *indexRec) []byte {
	b := make([]byte, 0, recordFixed+32*len(r.nodes))
	b = append(b, recordFormat)
	b = append(b, r.hash[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(r.pos.ledger))
	b = binary.BigEndian.AppendUint64(b, uint64(r.pos.entry))
	b = append(b, byte(len(r.nodes)))
	for _, h := range r.nodes {
		b = append(b, h[:]...)
	}
	return b
}

// storedRec is a decoded record: the entry hash, its message and its nodes.
type storedRec struct {
	hash  journal.Hash
	pos   msgPos
	nodes []byte // n x 32, levels 1..n
}

func decodeRecord(b []byte) (storedRec, error) {
	var r storedRec
	if len(b) < recordFixed || b[0] != recordFormat || len(b) != recordFixed+32*int(b[recordFixed-1]) {
		return r, fmt.Errorf("%w: cache record (%d bytes)", journal.ErrCorrupt, len(b))
	}
	copy(r.hash[:], b[1:33])
	r.pos = msgPos{int64(binary.BigEndian.Uint64(b[33:])), int64(binary.BigEndian.Uint64(b[41:]))}
	r.nodes = b[recordFixed:]
	return r, nil
}

// treeHash is the stored tree hash at level of this leaf (level 0 is the leaf hash).
func (r storedRec) treeHash(level int) (journal.Hash, bool) {
	if level == 0 {
		return journal.LeafHash(r.hash), true
	}
	var h journal.Hash
	if level*32 > len(r.nodes) {
		return h, false
	}
	copy(h[:], r.nodes[(level-1)*32:])
	return h, true
}

func (c *cache) head(id uint32) (cachedHead, bool, error) {
	var h cachedHead
	var ok bool
	err := c.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(idKey(keyHead, id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		ok = true
		return item.Value(func(v []byte) error { h, err = decodeHead(v); return err })
	})
	return h, ok, err
}

// record reads the record of seq.
func (c *cache) record(id uint32, seq uint64) (storedRec, error) {
	var r storedRec
	err := c.db.View(func(txn *badger.Txn) error {
		var err error
		r, err = getRecord(txn, id, seq)
		return err
	})
	return r, err
}

func getRecord(txn *badger.Txn, id uint32, seq uint64) (storedRec, error) {
	item, err := txn.Get(recordKey(id, seq))
	if err != nil {
		return storedRec{}, fmt.Errorf("%w: local index has no entry %d (%v); delete the cache dir to rebuild it", journal.ErrCorrupt, seq, err)
	}
	var r storedRec
	err = item.Value(func(v []byte) error {
		var err error
		r, err = decodeRecord(v)
		if err == nil {
			r.nodes = append([]byte(nil), r.nodes...)
		}
		return err
	})
	return r, err
}

// records calls fn for the records from..last in order.
func (c *cache) records(id uint32, from, last uint64, fn func(seq uint64, r storedRec) error) error {
	return c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: idKey(keyRecord, id), PrefetchValues: true, PrefetchSize: 256})
		defer it.Close()
		want := from
		for it.Seek(recordKey(id, from)); it.Valid() && want <= last; it.Next() {
			k := it.Item().Key()
			seq := binary.BigEndian.Uint64(k[5:])
			if seq != want {
				return fmt.Errorf("%w: local index lacks entry %d; delete the cache dir to rebuild it", journal.ErrCorrupt, want)
			}
			err := it.Item().Value(func(v []byte) error {
				r, err := decodeRecord(v)
				if err != nil {
					return err
				}
				return fn(seq, r)
			})
			if err != nil {
				return err
			}
			want++
		}
		if want <= last {
			return fmt.Errorf("%w: local index lacks entry %d; delete the cache dir to rebuild it", journal.ErrCorrupt, want)
		}
		return nil
	})
}

// lookup returns the uint64 stored at key.
func (c *cache) lookup(key []byte) (uint64, bool, error) {
	var v uint64
	var ok bool
	err := c.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(key)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(b []byte) error {
			if len(b) != 8 {
				return fmt.Errorf("%w: cache index value", journal.ErrCorrupt)
			}
			v, ok = binary.BigEndian.Uint64(b), true
			return nil
		})
	})
	return v, ok, err
}

// producerMax is the highest producer_seq indexed for producer (nil if none).
func (c *cache) producerMax(id uint32, producer string) (*uint64, error) {
	var max *uint64
	err := c.db.View(func(txn *badger.Txn) error {
		prefix := producerKey(id, producer, 0)
		prefix = prefix[:len(prefix)-8]
		it := txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: prefix})
		defer it.Close()
		it.Seek(append(append([]byte(nil), prefix...), bytes.Repeat([]byte{0xff}, 8)...))
		if it.Valid() {
			k := it.Item().Key()
			v := binary.BigEndian.Uint64(k[len(k)-8:])
			max = &v
		}
		return nil
	})
	return max, err
}

// write stores index records and the new head in one transaction (split
// when it outgrows one; the head goes in the last).
func (c *cache) write(id uint32, recs []indexRec, h cachedHead) error {
	seqVal := func(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }
	txn := c.db.NewTransaction(true)
	defer func() { txn.Discard() }()
	set := func(k, v []byte) error {
		err := txn.Set(k, v)
		if errors.Is(err, badger.ErrTxnTooBig) {
			if err = txn.Commit(); err != nil {
				return err
			}
			txn = c.db.NewTransaction(true)
			err = txn.Set(k, v)
		}
		return err
	}
	for i := range recs {
		r := &recs[i]
		if err := set(recordKey(id, r.seq), encodeRecord(r)); err != nil {
			return fmt.Errorf("write local index: %w", err)
		}
		if len(r.srcPos) > 0 {
			if err := set(positionKey(id, r.srcPos), seqVal(r.seq)); err != nil {
				return fmt.Errorf("write local index: %w", err)
			}
		}
		if r.producer != "" {
			if err := set(producerKey(id, r.producer, r.pseq), seqVal(r.seq)); err != nil {
				return fmt.Errorf("write local index: %w", err)
			}
		}
	}
	if err := set(idKey(keyHead, id), encodeHead(h)); err != nil {
		return fmt.Errorf("write local index: %w", err)
	}
	if err := txn.Commit(); err != nil {
		return fmt.Errorf("write local index: %w", err)
	}
	return nil
}

// dropStream deletes every cache key of a stream (its index is rebuilt).
func (c *cache) dropStream(id uint32) error {
	for _, p := range []byte{keyHead, keyRecord, keyProducer, keyPosition} {
		if err := c.db.DropPrefix(idKey(p, id)); err != nil {
			return fmt.Errorf("drop local index of stream %d: %w", id, err)
		}
	}
	return nil
}

// hashReader serves stored Merkle hashes of one stream from the cache.
type hashReader struct {
	c  *cache
	id uint32
}

func (h hashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	err := h.c.db.View(func(txn *badger.Txn) error {
		for i, idx := range indexes {
			leaf, level := journal.LeafForStoredHash(idx)
			r, err := getRecord(txn, h.id, leaf+1)
			if err != nil {
				return err
			}
			th, ok := r.treeHash(level)
			if !ok {
				return fmt.Errorf("%w: entry %d holds no Merkle hash at level %d", journal.ErrCorrupt, leaf+1, level)
			}
			out[i] = tlog.Hash(th)
		}
		return nil
	})
	return out, err
}
