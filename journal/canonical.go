package journal

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"time"
)

// EncodingVersion is the first byte of every canonical encoding.
const EncodingVersion = 1

// HashDomain prefixes every entry hash input.
const HashDomain = "cairn.entry.v1"

// MaxFieldSize bounds any one length-prefixed field.
const MaxFieldSize = math.MaxUint32

type encoder struct{ b []byte }

func (e *encoder) u8(v uint8)   { e.b = append(e.b, v) }
func (e *encoder) u32(v uint32) { e.b = binary.BigEndian.AppendUint32(e.b, v) }
func (e *encoder) u64(v uint64) { e.b = binary.BigEndian.AppendUint64(e.b, v) }
func (e *encoder) bytes(v []byte) {
	e.u32(uint32(len(v)))
	e.b = append(e.b, v...)
}
func (e *encoder) str(v string) {
	e.u32(uint32(len(v)))
	e.b = append(e.b, v...)
}

func canonicalSize(en *Entry) int {
	n := 1 + 4 + len(en.Stream) + 8 + 1 + 4 + len(en.SourceID) + 4 + len(en.SourcePosition) +
		4 + len(en.TxID) + 8 + 4 + len(en.Table) + 1 + 4 + len(en.Key) + 4 + len(en.Before) +
		4 + len(en.After) + 4 + len(en.SchemaFingerprint) + 4 + len(en.ProducerID) + 8 +
		4 + len(en.Payload) + 4
	for k, v := range en.Metadata {
		n += 8 + len(k) + len(v)
	}
	return n
}

// EncodedSize is the length of the entry bytes (prev_hash || canonical) of e.
func EncodedSize(e *Entry) int { return HashSize + canonicalSize(e) }

// commitTimeNanos maps CommitTime to the encoded integer: 0 for "none".
func commitTimeNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// AppendEntryBytes appends the stored, hashed form of en (prev_hash followed by
// the canonical encoding) to dst and returns the extended slice.
func AppendEntryBytes(dst []byte, en *Entry) ([]byte, error) {
	size := canonicalSize(en)
	if uint64(size) > MaxFieldSize {
		return dst, fmt.Errorf("%w: entry is %d bytes, over the 4 GiB limit", ErrInvalidEntry, size)
	}
	e := encoder{b: dst}
	if cap(e.b)-len(e.b) < HashSize+size {
		nb := make([]byte, len(e.b), len(e.b)+HashSize+size)
		copy(nb, e.b)
		e.b = nb
	}
	e.b = append(e.b, en.PrevHash[:]...)
	e.u8(EncodingVersion)
	e.str(en.Stream)
	e.u64(en.Seq)
	e.u8(uint8(en.Kind))
	e.str(en.SourceID)
	e.bytes(en.SourcePosition)
	e.str(en.TxID)
	e.u64(uint64(commitTimeNanos(en.CommitTime)))
	e.str(en.Table)
	e.u8(uint8(en.Op))
	e.bytes(en.Key)
	e.bytes(en.Before)
	e.bytes(en.After)
	e.bytes(en.SchemaFingerprint)
	e.str(en.ProducerID)
	e.u64(en.ProducerSeq)
	e.bytes(en.Payload)
	e.u32(uint32(len(en.Metadata)))
	if len(en.Metadata) > 0 {
		keys := make([]string, 0, len(en.Metadata))
		for k := range en.Metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			e.str(k)
			e.str(en.Metadata[k])
		}
	}
	return e.b, nil
}

// EntryBytes returns the stored, hashed form of en.
func EntryBytes(en *Entry) ([]byte, error) { return AppendEntryBytes(nil, en) }

// HashEntryBytes computes SHA-256("cairn.entry.v1" || entryBytes), where
// entryBytes is prev_hash || canonical(entry) as produced by EntryBytes.
func HashEntryBytes(entryBytes []byte) Hash {
	h := sha256.New()
	h.Write([]byte(HashDomain))
	h.Write(entryBytes)
	var out Hash
	h.Sum(out[:0])
	return out
}

type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at byte %d", ErrCorrupt, what, d.off)
	}
}

func (d *decoder) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || len(d.b)-d.off < n {
		d.fail("truncated " + what)
		return nil
	}
	v := d.b[d.off : d.off+n]
	d.off += n
	return v
}

func (d *decoder) u8(what string) uint8 {
	v := d.take(1, what)
	if v == nil {
		return 0
	}
	return v[0]
}

func (d *decoder) u32(what string) uint32 {
	v := d.take(4, what)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint32(v)
}

// length reads a field's u32 length prefix. The error text is built only on
// failure: decoding is on the read path of every entry.
func (d *decoder) length(what string) uint32 {
	if d.err != nil {
		return 0
	}
	if len(d.b)-d.off < 4 {
		d.fail("truncated " + what + " length")
		return 0
	}
	v := binary.BigEndian.Uint32(d.b[d.off:])
	d.off += 4
	return v
}

func (d *decoder) u64(what string) uint64 {
	v := d.take(8, what)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// bytes returns a copy (nil for an empty field) so decoded entries never alias
// store buffers.
func (d *decoder) bytes(what string) []byte {
	n := d.length(what)
	if d.err != nil {
		return nil
	}
	if uint64(n) > uint64(len(d.b)-d.off) {
		d.fail("truncated " + what)
		return nil
	}
	v := d.take(int(n), what)
	if len(v) == 0 {
		return nil
	}
	return append([]byte(nil), v...)
}

func (d *decoder) str(what string) string {
	n := d.length(what)
	if d.err != nil {
		return ""
	}
	if uint64(n) > uint64(len(d.b)-d.off) {
		d.fail("truncated " + what)
		return ""
	}
	return string(d.take(int(n), what))
}

// DecodeEntryBytes parses prev_hash || canonical(entry). It is strict: an
// unknown version, kind or op, a length running past the end, unsorted or
// repeated metadata keys, or trailing bytes all give ErrCorrupt.
func DecodeEntryBytes(b []byte) (Entry, error) {
	var en Entry
	d := decoder{b: b}
	copy(en.PrevHash[:], d.take(HashSize, "prev_hash"))
	if v := d.u8("version"); d.err == nil && v != EncodingVersion {
		return en, fmt.Errorf("%w: unknown encoding version %d", ErrCorrupt, v)
	}
	en.Stream = d.str("stream")
	en.Seq = d.u64("seq")
	en.Kind = Kind(d.u8("kind"))
	if d.err == nil && !en.Kind.Valid() {
		return en, fmt.Errorf("%w: unknown kind %d", ErrCorrupt, en.Kind)
	}
	en.SourceID = d.str("source_id")
	en.SourcePosition = d.bytes("source_position")
	en.TxID = d.str("tx_id")
	if ns := int64(d.u64("commit_time")); ns != 0 {
		en.CommitTime = time.Unix(0, ns).UTC()
	}
	en.Table = d.str("table")
	en.Op = Op(d.u8("op"))
	if d.err == nil && !en.Op.Valid() {
		return en, fmt.Errorf("%w: unknown op %d", ErrCorrupt, en.Op)
	}
	en.Key = d.bytes("key")
	en.Before = d.bytes("before")
	en.After = d.bytes("after")
	en.SchemaFingerprint = d.bytes("schema_fingerprint")
	en.ProducerID = d.str("producer_id")
	en.ProducerSeq = d.u64("producer_seq")
	en.Payload = d.bytes("payload")
	n := d.u32("metadata count")
	if d.err == nil && n > 0 {
		if uint64(n) > uint64(len(d.b)-d.off)/8 {
			return en, fmt.Errorf("%w: metadata count %d exceeds the remaining bytes", ErrCorrupt, n)
		}
		en.Metadata = make(map[string]string, n)
		prev := ""
		for i := uint32(0); i < n && d.err == nil; i++ {
			k := d.str("metadata key")
			v := d.str("metadata value")
			if d.err == nil && i > 0 && k <= prev {
				return en, fmt.Errorf("%w: metadata keys not strictly sorted at %q", ErrCorrupt, k)
			}
			prev = k
			en.Metadata[k] = v
		}
	}
	if d.err != nil {
		return en, d.err
	}
	if d.off != len(d.b) {
		return en, fmt.Errorf("%w: %d trailing bytes after the entry", ErrCorrupt, len(d.b)-d.off)
	}
	return en, nil
}
