package badgerstore

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/dgraph-io/badger/v4"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/cairnlog/cairn/journal"
)

func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// Read returns up to limit durable records of stream from seq from.
func (s *Store) Read(ctx context.Context, stream string, from uint64, limit int) ([]journal.Record, error) {
	st, h, err := s.stream(stream)
	if err != nil {
		return nil, err
	}
	last, ok, err := journal.ReadRange(from, limit, h.Seq)
	if !ok {
		return nil, err
	}
	out := make([]journal.Record, 0, last-from+1)
	err = s.scan(ctx, st.id, from, last, func(seq uint64, r rawRecord) error {
		e, err := journal.DecodeEntryBytes(r.entry)
		if err != nil {
			return fmt.Errorf("stream %s seq %d: %w", stream, seq, err)
		}
		e.RecordedAt = r.recordedAt
		out = append(out, journal.Record{Entry: e, Hash: journal.HashEntryBytes(r.entry)})
		return nil
	})
	return out, err
}

// ScanRaw calls fn for every durable record of stream from seq from, in
// order, with the bytes as stored (for offline verification). The slices
// passed to fn are only valid during the call.
func (s *Store) ScanRaw(ctx context.Context, stream string, from uint64, fn func(journal.RawRecord) error) error {
	st, h, err := s.stream(stream)
	if err != nil {
		return err
	}
	if from == 0 {
		from = 1
	}
	if from > h.Seq {
		return nil
	}
	tree := make([]journal.Hash, 0, 64)
	return s.scan(ctx, st.id, from, h.Seq, func(seq uint64, r rawRecord) error {
		tree = tree[:0]
		for i := 0; i+32 <= len(r.tree); i += 32 {
			tree = append(tree, journal.Hash(r.tree[i:i+32]))
		}
		return fn(journal.RawRecord{Seq: seq, EntryBytes: r.entry, HashPrefix: r.hashPrefix, TreeHashes: tree})
	})
}

// scan iterates entry keys from..last. A record that is missing or does not
// parse is reported by seq; gaps surface as a seq jump to the caller.
func (s *Store) scan(ctx context.Context, id uint32, from, last uint64, fn func(uint64, rawRecord) error) error {
	return s.db.View(func(txn *badger.Txn) error {
		// Values live in the value log, and prefetching them costs a
		// goroutine per item; reading each one inline from the mapped log
		// file is cheaper.
		opts := badger.IteratorOptions{Prefix: idKey(prefixEntry, id)}
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Seek(entryKey(id, from)); it.Valid(); it.Next() {
			item := it.Item()
			k := item.Key()
			if len(k) != 13 {
				return fmt.Errorf("%w: entry key %x", journal.ErrCorrupt, k)
			}
			seq := binary.BigEndian.Uint64(k[5:])
			if seq > last {
				return nil
			}
			if seq&1023 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			err := item.Value(func(v []byte) error {
				r, err := decodeRecord(v)
				if err != nil {
					return fmt.Errorf("seq %d: %w", seq, err)
				}
				return fn(seq, r)
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) getRecord(txn *badger.Txn, id uint32, seq uint64, fn func(rawRecord) error) error {
	item, err := txn.Get(entryKey(id, seq))
	if err != nil {
		return fmt.Errorf("%w: entry %d: %v", journal.ErrCorrupt, seq, err)
	}
	return item.Value(func(v []byte) error {
		r, err := decodeRecord(v)
		if err != nil {
			return fmt.Errorf("seq %d: %w", seq, err)
		}
		return fn(r)
	})
}

// findPosition returns the seq of the entry written at source position pos,
// searching this group's staged entries and then the durable journal by
// binary search (positions rise with seq). It returns 0 when pos falls below
// the high-water mark but no entry carries it exactly.
func (s *Store) findPosition(w *work, staged []posSeq, pos []byte) (uint64, error) {
	if n := len(staged); n > 0 && bytes.Compare(pos, staged[0].pos) >= 0 {
		i := sort.Search(n, func(i int) bool { return bytes.Compare(staged[i].pos, pos) >= 0 })
		if i < n && bytes.Equal(staged[i].pos, pos) {
			return staged[i].seq, nil
		}
		return 0, nil
	}
	s.commits.Wait() // every earlier transaction is in Badger from here on
	var found uint64
	err := s.db.View(func(txn *badger.Txn) error {
		lo, hi := uint64(1), w.committed
		for lo <= hi {
			mid := lo + (hi-lo)/2
			seq, mpos, err := s.positionFrom(txn, w.st.id, mid, hi)
			if err != nil {
				return err
			}
			if mpos == nil { // no positioned entry in mid..hi
				if mid == 0 {
					return nil
				}
				hi = mid - 1
				continue
			}
			switch c := bytes.Compare(mpos, pos); {
			case c == 0:
				found = seq
				return nil
			case c < 0:
				lo = seq + 1
			default:
				if mid == 0 {
					return nil
				}
				hi = mid - 1
			}
		}
		return nil
	})
	return found, err
}

// positionFrom returns the first entry at or after seq (up to hi) that has a
// source position.
func (s *Store) positionFrom(txn *badger.Txn, id uint32, seq, hi uint64) (uint64, []byte, error) {
	for ; seq <= hi; seq++ {
		var pos []byte
		err := s.getRecord(txn, id, seq, func(r rawRecord) error {
			e, err := journal.DecodeEntryBytes(r.entry)
			pos = e.SourcePosition
			return err
		})
		if err != nil {
			return 0, nil, err
		}
		if len(pos) > 0 {
			return seq, pos, nil
		}
	}
	return 0, nil, nil
}

func (s *Store) producerMax(id uint32, producer string) (*uint64, error) {
	m := s.producers[id]
	if m == nil {
		m = map[string]uint64{}
		s.producers[id] = m
	}
	if v, ok := m[producer]; ok {
		return &v, nil
	}
	var max *uint64
	err := s.db.View(func(txn *badger.Txn) error {
		prefix := producerPrefix(id, producer)
		it := txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: prefix})
		defer it.Close()
		it.Seek(append(append([]byte(nil), prefix...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))
		if it.Valid() {
			k := it.Item().Key()
			v := binary.BigEndian.Uint64(k[len(k)-8:])
			max = &v
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read producer %q state: %w", producer, err)
	}
	if max != nil {
		m[producer] = *max
	}
	return max, nil
}

func (s *Store) noteProducer(id uint32, producer string, n uint64) {
	m := s.producers[id]
	if m == nil {
		m = map[string]uint64{}
		s.producers[id] = m
	}
	if v, ok := m[producer]; !ok || n > v {
		m[producer] = n
	}
}

func (s *Store) producerSeq(id uint32, producer string, n uint64) (uint64, bool, error) {
	var seq uint64
	var found bool
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(producerKey(id, producer, n))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("%w: producer record", journal.ErrCorrupt)
			}
			seq, found = binary.BigEndian.Uint64(v), true
			return nil
		})
	})
	if err != nil {
		return 0, false, fmt.Errorf("look up producer %q seq %d: %w", producer, n, err)
	}
	return seq, found, nil
}

func (s *Store) latestCheckpoint(st *streamState) (journal.SignedCheckpoint, error) {
	var sc journal.SignedCheckpoint
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(idKey(prefixCheckpoint, st.id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("%w for stream %s yet (run cairn checkpoint, or append and close the store)", journal.ErrNoCheckpoint, st.name)
		}
		if err != nil {
			return err
		}
		b, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		sc, err = journal.ParseSignedCheckpoint(b)
		return err
	})
	return sc, err
}

// LatestCheckpoint returns the latest stored signed checkpoint of stream.
func (s *Store) LatestCheckpoint(ctx context.Context, stream string) (journal.SignedCheckpoint, error) {
	st, _, err := s.stream(stream)
	if err != nil {
		return journal.SignedCheckpoint{}, err
	}
	return s.latestCheckpoint(st)
}

// hashReader serves stored Merkle hashes from the records that hold them.
type hashReader struct {
	s   *Store
	txn *badger.Txn
	id  uint32
}

func (h hashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		leaf, level := journal.LeafForStoredHash(idx)
		item, err := h.txn.Get(entryKey(h.id, leaf+1))
		if err != nil {
			return nil, fmt.Errorf("%w: Merkle hash %d (entry %d): %v", journal.ErrCorrupt, idx, leaf+1, err)
		}
		err = item.Value(func(v []byte) error {
			r, err := decodeRecord(v)
			if err != nil {
				return err
			}
			th, ok := r.treeHash(level)
			if !ok {
				return fmt.Errorf("%w: entry %d holds no Merkle hash at level %d", journal.ErrCorrupt, leaf+1, level)
			}
			out[i] = tlog.Hash(th)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) treeSize(h journal.Head, size uint64) (uint64, error) {
	if size == 0 {
		return h.Seq, nil
	}
	if size > h.Seq {
		return 0, fmt.Errorf("%w: tree size %d is past the head (%d entries)", journal.ErrBadTreeSize, size, h.Seq)
	}
	return size, nil
}

// InclusionProof proves seq is in the tree of treeSize leaves (0 = head).
func (s *Store) InclusionProof(ctx context.Context, stream string, seq, treeSize uint64) (journal.InclusionProof, error) {
	st, h, err := s.stream(stream)
	if err != nil {
		return journal.InclusionProof{}, err
	}
	if treeSize, err = s.treeSize(h, treeSize); err != nil {
		return journal.InclusionProof{}, err
	}
	if seq == 0 || seq > treeSize {
		return journal.InclusionProof{}, fmt.Errorf("%w: seq %d is not in a tree of %d entries", journal.ErrSeqOutOfRange, seq, treeSize)
	}
	var p journal.InclusionProof
	err = s.db.View(func(txn *badger.Txn) error {
		var eh journal.Hash
		if err := s.getRecord(txn, st.id, seq, func(r rawRecord) error { eh = journal.HashEntryBytes(r.entry); return nil }); err != nil {
			return err
		}
		var err error
		p, err = journal.ProveInclusion(stream, seq, treeSize, eh, hashReader{s: s, txn: txn, id: st.id})
		return err
	})
	return p, err
}

// ConsistencyProof proves the tree of from leaves is a prefix of the tree of to leaves (0 = head).
func (s *Store) ConsistencyProof(ctx context.Context, stream string, from, to uint64) (journal.ConsistencyProof, error) {
	st, h, err := s.stream(stream)
	if err != nil {
		return journal.ConsistencyProof{}, err
	}
	if to, err = s.treeSize(h, to); err != nil {
		return journal.ConsistencyProof{}, err
	}
	var p journal.ConsistencyProof
	err = s.db.View(func(txn *badger.Txn) error {
		var err error
		p, err = journal.ProveConsistency(stream, from, to, hashReader{s: s, txn: txn, id: st.id})
		return err
	})
	return p, err
}

// SchemaHeads returns the latest schema entry of every table of stream
// (journal.SchemaHeads), from the index written with the schema entries.
func (s *Store) SchemaHeads(ctx context.Context, stream string) (map[string]journal.SchemaHead, error) {
	all, err := s.SchemaVersions(ctx, stream)
	if err != nil {
		return nil, err
	}
	out := map[string]journal.SchemaHead{}
	for _, v := range all {
		out[v.Table] = journal.SchemaHead{Seq: v.Seq, Fingerprint: v.Fingerprint}
	}
	return out, nil
}

// SchemaVersions returns every schema entry of stream up to its durable
// head, in seq order (journal.SchemaVersions), from the index written with
// the schema entries.
func (s *Store) SchemaVersions(ctx context.Context, stream string) ([]journal.SchemaVersion, error) {
	var out []journal.SchemaVersion
	st, h, err := s.stream(stream)
	if errors.Is(err, journal.ErrUnknownStream) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	prefix := schemaPrefix(st.id)
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Seek(prefix); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			k := it.Item().Key()
			if len(k) < len(prefix)+2+8 {
				return fmt.Errorf("%w: schema index key of %d bytes", journal.ErrCorrupt, len(k))
			}
			n := int(binary.BigEndian.Uint16(k[len(prefix):]))
			if len(k) != len(prefix)+2+n+8 {
				return fmt.Errorf("%w: schema index key length", journal.ErrCorrupt)
			}
			seq := binary.BigEndian.Uint64(k[len(k)-8:])
			if seq > h.Seq {
				continue
			}
			fp, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			out = append(out, journal.SchemaVersion{Table: string(k[len(prefix)+2 : len(prefix)+2+n]), Seq: seq, Fingerprint: fp})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the schema index of %s: %w", stream, err)
	}
	slices.SortFunc(out, func(a, b journal.SchemaVersion) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

var (
	_ journal.SchemaHeads    = (*Store)(nil)
	_ journal.SchemaVersions = (*Store)(nil)
)
