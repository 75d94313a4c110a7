package badgerstore

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/cairnlog/cairn/journal"
)

// Key layout (all integers big-endian):
//
//	'S' name                      -> u32 stream id
//	'H' id                        -> head: u64 seq, [32] hash, u32 len, high-water source position
//	'E' id u64 seq                -> record (see encodeRecord)
//	'P' id u16 len producer u64 n -> u64 seq of (producer, n)
//	'C' id                        -> latest signed checkpoint note
//	'R' id u16 len table u64 seq  -> schema fingerprint of the schema entry at seq
const (
	prefixStream     = 'S'
	prefixHead       = 'H'
	prefixEntry      = 'E'
	prefixProducer   = 'P'
	prefixCheckpoint = 'C'
	prefixSchema     = 'R'
)

const recordFormat = 1

func streamKey(name string) []byte { return append([]byte{prefixStream}, name...) }

func idKey(prefix byte, id uint32) []byte {
	k := make([]byte, 5)
	k[0] = prefix
	binary.BigEndian.PutUint32(k[1:], id)
	return k
}

func entryKey(id uint32, seq uint64) []byte {
	var k [13]byte // escapes only when the caller keeps it
	k[0] = prefixEntry
	binary.BigEndian.PutUint32(k[1:], id)
	binary.BigEndian.PutUint64(k[5:], seq)
	return k[:]
}

func producerPrefix(id uint32, producer string) []byte {
	k := make([]byte, 0, 7+len(producer)+8)
	k = append(k, prefixProducer)
	k = binary.BigEndian.AppendUint32(k, id)
	k = binary.BigEndian.AppendUint16(k, uint16(len(producer)))
	return append(k, producer...)
}

func producerKey(id uint32, producer string, n uint64) []byte {
	return binary.BigEndian.AppendUint64(producerPrefix(id, producer), n)
}

// schemaPrefix is the index prefix of one stream's schema entries.
func schemaPrefix(id uint32) []byte { return idKey(prefixSchema, id) }

// schemaKey indexes the schema entry at seq for table, written in the same
// Badger transaction as the entry, so the index is exactly as durable.
func schemaKey(id uint32, table string, seq uint64) []byte {
	k := make([]byte, 0, 7+len(table)+8)
	k = append(k, schemaPrefix(id)...)
	k = binary.BigEndian.AppendUint16(k, uint16(len(table)))
	k = append(k, table...)
	return binary.BigEndian.AppendUint64(k, seq)
}

type headValue struct {
	seq       uint64
	hash      journal.Hash
	highWater []byte
}

func encodeHead(h headValue) []byte {
	b := make([]byte, 0, 44+len(h.highWater))
	b = binary.BigEndian.AppendUint64(b, h.seq)
	b = append(b, h.hash[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(h.highWater)))
	return append(b, h.highWater...)
}

func decodeHead(b []byte) (headValue, error) {
	var h headValue
	if len(b) < 44 {
		return h, fmt.Errorf("%w: head record is %d bytes", journal.ErrCorrupt, len(b))
	}
	h.seq = binary.BigEndian.Uint64(b)
	copy(h.hash[:], b[8:40])
	n := binary.BigEndian.Uint32(b[40:])
	if uint64(n) != uint64(len(b)-44) {
		return h, fmt.Errorf("%w: head record high-water length %d, have %d bytes", journal.ErrCorrupt, n, len(b)-44)
	}
	if n > 0 {
		h.highWater = append([]byte(nil), b[44:]...)
	}
	return h, nil
}

// encodeRecord lays out a stored entry:
//
//	u8 format (1) | i64 recorded_at unix nanos | [8] first 8 bytes of the entry hash |
//	u8 n | n x [32] Merkle node hashes at levels 1..n completed by this leaf | entry bytes
//
// Entry bytes are prev_hash || canonical(entry). The full entry hash and the
// leaf hash (level 0) are not stored: both recompute from the entry bytes,
// which keeps the record small (the disk is the bottleneck of appends). The
// 8-byte hash prefix lets verification name the damaged entry itself rather
// than the next one, whose prev_hash no longer matches.
func encodeRecord(dst []byte, recordedAt time.Time, hash journal.Hash, tree []journal.Hash, entryBytes []byte) []byte {
	dst = append(dst, recordFormat)
	dst = binary.BigEndian.AppendUint64(dst, uint64(recordedAt.UnixNano()))
	dst = append(dst, hash[:hashPrefix]...)
	dst = append(dst, byte(len(tree)))
	for _, h := range tree {
		dst = append(dst, h[:]...)
	}
	return append(dst, entryBytes...)
}

const (
	hashPrefix   = 8
	recordHeader = 1 + 8 + hashPrefix + 1
)

type rawRecord struct {
	recordedAt time.Time
	hashPrefix []byte
	tree       []byte // n x 32: levels 1..n
	entry      []byte
}

func decodeRecord(b []byte) (rawRecord, error) {
	var r rawRecord
	if len(b) < recordHeader || b[0] != recordFormat {
		return r, fmt.Errorf("%w: record header (%d bytes)", journal.ErrCorrupt, len(b))
	}
	r.recordedAt = time.Unix(0, int64(binary.BigEndian.Uint64(b[1:]))).UTC()
	r.hashPrefix = b[9 : 9+hashPrefix]
	n := int(b[recordHeader-1])
	if len(b) < recordHeader+32*n {
		return r, fmt.Errorf("%w: record Merkle hashes truncated", journal.ErrCorrupt)
	}
	r.tree = b[recordHeader : recordHeader+32*n]
	r.entry = b[recordHeader+32*n:]
	return r, nil
}

// treeHash returns the stored node hash at level (>= 1), or computes the
// leaf hash for level 0.
func (r rawRecord) treeHash(level int) (journal.Hash, bool) {
	var h journal.Hash
	if level == 0 {
		return journal.LeafHash(journal.HashEntryBytes(r.entry)), true
	}
	if level*32 > len(r.tree) {
		return h, false
	}
	copy(h[:], r.tree[(level-1)*32:])
	return h, true
}
