package schema

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
)

// Decode appends the canonical row image (JSON) of one Avro-encoded row:
// for a row Encode accepted, exactly the bytes it was given. On error dst
// is returned unchanged.
func (c *Codec) Decode(dst, data []byte) ([]byte, error) {
	return c.decode(dst, data, false)
}

// Readable appends a JSON rendering of one Avro-encoded row for people:
// the same keys in column order, with timestamps in RFC 3339, bytes in
// base64, decimals as strings and intervals as ISO 8601 durations (see
// docs/formats/avro.md). It is not meant to be read back.
func (c *Codec) Readable(dst, data []byte) ([]byte, error) {
	return c.decode(dst, data, true)
}

type decoder struct {
	c        *Codec
	r        reader
	readable bool
}

func (c *Codec) decode(dst, data []byte, readable bool) ([]byte, error) {
	d := decoder{c: c, r: reader{b: data}, readable: readable}
	mark := len(dst)
	dst = append(dst, '{')
	for i := range c.fields {
		f := &c.fields[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, f.key...)
		var err error
		if dst, err = d.value(dst, f.n); err != nil {
			return dst[:mark], fmt.Errorf("column %q: %w", f.column, err)
		}
	}
	if d.r.pos != len(data) {
		return dst[:mark], fmt.Errorf("%d bytes after the last column: %w", len(data)-d.r.pos, ErrAvroData)
	}
	return append(dst, '}'), nil
}

func (d *decoder) value(dst []byte, n *node) ([]byte, error) {
	idx := int64(n.typed)
	if n.union {
		var err error
		if idx, err = d.r.long(); err != nil {
			return dst, err
		}
	}
	switch idx {
	case int64(n.typed):
		return d.typed(dst, n)
	case int64(n.null):
		return append(dst, "null"...), nil
	case int64(n.unch):
		return append(dst, unchangedMarker...), nil
	case int64(n.text):
		s, err := d.r.bytes()
		if err != nil {
			return dst, err
		}
		return AppendJSONString(dst, s), nil
	case int64(n.multi):
		return d.multiDim(dst, n)
	}
	return dst, d.r.errf("union index out of range")
}

func (d *decoder) typed(dst []byte, n *node) ([]byte, error) {
	r := &d.r
	pg := d.c.flavor == Postgres
	switch n.kind {
	case tInt, tLong:
		v, err := r.long()
		if err != nil {
			return dst, err
		}
		return strconv.AppendInt(dst, v, 10), nil
	case tUInt64:
		b, err := r.fixed(uint64FixedSize)
		if err != nil {
			return dst, err
		}
		if b[0] != 0 {
			return dst, r.errf("UInt64 out of range")
		}
		var v uint64
		for _, c := range b[1:] {
			v = v<<8 | uint64(c)
		}
		return strconv.AppendUint(dst, v, 10), nil
	case tFloat, tDouble:
		bits := 64
		var f float64
		if n.kind == tFloat {
			bits = 32
			f32, err := r.float32()
			if err != nil {
				return dst, err
			}
			f = float64(f32)
		} else {
			var err error
			if f, err = r.float64(); err != nil {
				return dst, err
			}
		}
		switch {
		case math.IsNaN(f):
			return append(dst, `"NaN"`...), nil
		case math.IsInf(f, 1):
			return append(dst, `"Infinity"`...), nil
		case math.IsInf(f, -1):
			return append(dst, `"-Infinity"`...), nil
		}
		if d.readable {
			return strconv.AppendFloat(dst, f, 'g', -1, bits), nil
		}
		return d.c.appendFloat(dst, f, bits), nil
	case tBool:
		b, err := r.bool()
		if err != nil {
			return dst, err
		}
		return strconv.AppendBool(dst, b), nil
	case tString, tUUID:
		s, err := r.bytes()
		if err != nil {
			return dst, err
		}
		return AppendJSONString(dst, s), nil
	case tBytes:
		b, err := r.bytes()
		if err != nil {
			return dst, err
		}
		dst = append(dst, '"')
		if d.readable {
			dst = base64.StdEncoding.AppendEncode(dst, b)
		} else {
			const hex = "0123456789abcdef"
			dst = append(dst, '\\', '\\', 'x')
			for _, c := range b {
				dst = append(dst, hex[c>>4], hex[c&0xf])
			}
		}
		return append(dst, '"'), nil
	case tDecimal:
		b, err := r.bytes()
		if err != nil {
			return dst, err
		}
		if len(b) == 0 {
			return dst, r.errf("empty decimal")
		}
		dst = append(dst, '"')
		dst = appendDecimalText(dst, b, n.scale)
		return append(dst, '"'), nil
	case tEnum:
		i, err := r.long()
		if err != nil {
			return dst, err
		}
		if i < 0 || i >= int64(len(n.symbols)) {
			return dst, r.errf("enum index out of range")
		}
		if i == int64(n.emptySym) {
			return append(dst, `""`...), nil
		}
		return AppendJSONString(dst, n.symbols[i]), nil
	case tOther:
		t, err := r.bytes()
		if err != nil {
			return dst, err
		}
		x, err := r.bytes()
		if err != nil {
			return dst, err
		}
		dst = append(dst, `{"$type":`...)
		dst = AppendJSONString(dst, t)
		dst = append(dst, `,"text":`...)
		dst = AppendJSONString(dst, x)
		return append(dst, '}'), nil
	case tArray:
		return d.array(dst, n)
	case tTimeTZ:
		us, err := r.long()
		if err != nil {
			return dst, err
		}
		east, err := r.int()
		if err != nil {
			return dst, err
		}
		if us < 0 || us > microsPerDay {
			return dst, r.errf("time out of range")
		}
		dst = append(dst, '"')
		if d.readable {
			dst = appendReadableTime(dst, us)
			dst = appendReadableOffset(dst, int64(east))
		} else {
			dst = appendPGTimeTZ(dst, us, int64(east))
		}
		return append(dst, '"'), nil
	case tInterval:
		months, err := r.int()
		if err != nil {
			return dst, err
		}
		days, err := r.int()
		if err != nil {
			return dst, err
		}
		us, err := r.long()
		if err != nil {
			return dst, err
		}
		dst = append(dst, '"')
		if d.readable {
			dst = appendISOInterval(dst, months, days, us)
		} else {
			dst = appendPGInterval(dst, months, days, us)
		}
		return append(dst, '"'), nil
	}
	// Dates and times.
	v, err := r.long()
	if err != nil {
		return dst, err
	}
	dst = append(dst, '"')
	switch {
	case d.readable:
		dst = appendReadableTemporal(dst, n.kind, v)
	case n.kind == tDate && pg:
		dst = appendPGDate(dst, v)
	case n.kind == tDate:
		dst = appendMySQLDate(dst, v)
	case n.kind == tTimeMicros && pg:
		if v < 0 || v > microsPerDay {
			return dst, r.errf("time out of range")
		}
		dst = appendPGTime(dst, v)
	case n.kind == tTimeMicros:
		if v < 0 || v >= microsPerDay {
			return dst, r.errf("time out of range")
		}
		dst = appendMySQLTime(dst, v, n.fsp)
	case pg:
		dst = appendPGTimestamp(dst, v, n.kind == tTimestamp)
	default:
		dst = appendMySQLDatetime(dst, v, n.fsp)
	}
	return append(dst, '"'), nil
}

func (d *decoder) array(dst []byte, n *node) ([]byte, error) {
	dst = append(dst, '[')
	first := true
	for {
		count, err := d.r.blockCount()
		if err != nil {
			return dst, err
		}
		if count == 0 {
			return append(dst, ']'), nil
		}
		for range count {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			if dst, err = d.value(dst, n.elem); err != nil {
				return dst, err
			}
		}
	}
}

func (d *decoder) multiDim(dst []byte, n *node) ([]byte, error) {
	var dimsBuf [maxArrayDims]int64
	dims := dimsBuf[:0]
	for {
		count, err := d.r.blockCount()
		if err != nil {
			return dst, err
		}
		if count == 0 {
			break
		}
		for range count {
			v, err := d.r.long()
			if err != nil {
				return dst, err
			}
			if len(dims) == maxArrayDims || v < 0 {
				return dst, d.r.errf("bad MultiDim dimensions")
			}
			dims = append(dims, v)
		}
	}
	if len(dims) == 0 {
		return dst, d.r.errf("MultiDim without dimensions")
	}
	total := int64(1)
	for _, v := range dims {
		if v > 0 && total > math.MaxInt32/v {
			return dst, d.r.errf("MultiDim too large")
		}
		total *= v
	}
	// The elements, row-major, possibly in several blocks.
	left := int64(0)
	next := func() error {
		for left == 0 {
			c, err := d.r.blockCount()
			if err != nil {
				return err
			}
			if c == 0 {
				return d.r.errf("MultiDim has fewer elements than its dimensions")
			}
			left = c
		}
		left--
		return nil
	}
	var walk func(dst []byte, depth int) ([]byte, error)
	walk = func(dst []byte, depth int) ([]byte, error) {
		dst = append(dst, '[')
		for i := range dims[depth] {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if depth == len(dims)-1 {
				if err = next(); err == nil {
					dst, err = d.value(dst, n.elem)
				}
			} else {
				dst, err = walk(dst, depth+1)
			}
			if err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	}
	dst, err := walk(dst, 0)
	if err != nil {
		return dst, err
	}
	if left != 0 {
		return dst, d.r.errf("MultiDim has more elements than its dimensions")
	}
	if c, err := d.r.blockCount(); err != nil || c != 0 {
		return dst, d.r.errf("MultiDim has more elements than its dimensions")
	}
	return dst, nil
}
