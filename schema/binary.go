package schema

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Avro binary primitives (Avro 1.11 specification, "Binary Encoding").

func appendLong(dst []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	for u >= 0x80 {
		dst = append(dst, byte(u)|0x80)
		u >>= 7
	}
	return append(dst, byte(u))
}

func appendFloat32(dst []byte, f float32) []byte {
	return binary.LittleEndian.AppendUint32(dst, math.Float32bits(f))
}

func appendFloat64(dst []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
}

func appendAvroBytes[S ~[]byte | ~string](dst []byte, b S) []byte {
	dst = appendLong(dst, int64(len(b)))
	return append(dst, b...)
}

// reader reads Avro binary; every read checks bounds.
type reader struct {
	b   []byte
	pos int
}

func (r *reader) errf(what string) error {
	return fmt.Errorf("avro byte %d: %s: %w", r.pos, what, ErrAvroData)
}

func (r *reader) long() (int64, error) {
	var u uint64
	for shift := uint(0); shift < 70; shift += 7 {
		if r.pos >= len(r.b) {
			return 0, r.errf("truncated varint")
		}
		c := r.b[r.pos]
		r.pos++
		u |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return int64(u>>1) ^ -int64(u&1), nil
		}
	}
	return 0, r.errf("varint too long")
}

func (r *reader) int() (int32, error) {
	v, err := r.long()
	if err != nil {
		return 0, err
	}
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, r.errf("int out of range")
	}
	return int32(v), nil
}

func (r *reader) bytes() ([]byte, error) {
	n, err := r.long()
	if err != nil {
		return nil, err
	}
	if n < 0 || n > int64(len(r.b)-r.pos) {
		return nil, r.errf("bad length")
	}
	out := r.b[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return out, nil
}

func (r *reader) fixed(n int) ([]byte, error) {
	if n > len(r.b)-r.pos {
		return nil, r.errf("truncated fixed")
	}
	out := r.b[r.pos : r.pos+n]
	r.pos += n
	return out, nil
}

func (r *reader) float32() (float32, error) {
	b, err := r.fixed(4)
	if err != nil {
		return 0, err
	}
	return math.Float32frombits(binary.LittleEndian.Uint32(b)), nil
}

func (r *reader) float64() (float64, error) {
	b, err := r.fixed(8)
	if err != nil {
		return 0, err
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b)), nil
}

func (r *reader) bool() (bool, error) {
	b, err := r.fixed(1)
	if err != nil {
		return false, err
	}
	switch b[0] {
	case 0:
		return false, nil
	case 1:
		return true, nil
	}
	return false, r.errf("bad boolean")
}

// blockCount reads an array block header: the item count (a negative
// count is followed by the block's byte size, which is skipped).
func (r *reader) blockCount() (int64, error) {
	n, err := r.long()
	if err != nil {
		return 0, err
	}
	if n < 0 {
		if _, err := r.long(); err != nil {
			return 0, err
		}
		n = -n
	}
	if n > int64(len(r.b)-r.pos) && n > 0 {
		// Every item takes at least... zero bytes (null, empty records),
		// so only absurd counts are refused.
		if n > 1<<28 {
			return 0, r.errf("array block too large")
		}
	}
	return n, nil
}
