package schema

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"sync"
)

// encoder is the per-call state of Encode, pooled.
type encoder struct {
	c       *Codec
	sc      scanner
	scratch []byte // unescaped strings
	render  []byte // re-rendered text for exactness checks
	dims    []int64
	col     string
}

var encoderPool = sync.Pool{New: func() any { return &encoder{} }}

const unchangedMarker = `{"$unchanged":true}`

// Encode appends the Avro binary of one canonical row image to dst. The
// image must hold every column of the schema, in order: a key-only image
// (a REPLICA IDENTITY DEFAULT old tuple) is not a row of this schema. On
// error dst is returned unchanged and the error names the column, never
// the value.
func (c *Codec) Encode(dst, row []byte) ([]byte, error) {
	e := encoderPool.Get().(*encoder)
	e.c, e.sc = c, scanner{src: row}
	out, err := e.row(dst)
	e.c, e.sc.src = nil, nil
	encoderPool.Put(e)
	if err != nil {
		return dst, err
	}
	return out, nil
}

func (e *encoder) row(dst []byte) ([]byte, error) {
	sc := &e.sc
	if !sc.expect('{') {
		return dst, sc.errf("want '{'")
	}
	for i := range e.c.fields {
		f := &e.c.fields[i]
		e.col = f.column
		if i > 0 && !sc.expect(',') {
			return dst, fmt.Errorf("column %q: %w", f.column, sc.errf("want ','"))
		}
		if !bytes.HasPrefix(sc.src[sc.pos:], f.key) {
			return dst, fmt.Errorf("column %q: not the next key of the row image: %w", f.column, ErrRowShape)
		}
		sc.pos += len(f.key)
		e.scratch = e.scratch[:0]
		var err error
		if dst, err = e.value(dst, f.n); err != nil {
			return dst, fmt.Errorf("column %q: %w", f.column, err)
		}
	}
	if !sc.expect('}') || sc.pos != len(sc.src) {
		return dst, sc.errf("want '}' at the end (more columns than the schema has?)")
	}
	return dst, nil
}

func (e *encoder) valueErr(n *node, why string) error {
	return fmt.Errorf("%s for Avro %s: %w", why, kindName(n.kind), ErrRowValue)
}

// value encodes one JSON value for node n.
func (e *encoder) value(dst []byte, n *node) ([]byte, error) {
	sc := &e.sc
	switch sc.peek() {
	case 'n':
		if !sc.literal("null") {
			return dst, sc.errf("bad literal")
		}
		if n.null < 0 {
			return dst, e.valueErr(n, "NULL in a NOT NULL column")
		}
		return appendLong(dst, int64(n.null)), nil
	case '{':
		if n.unch >= 0 && sc.literal(unchangedMarker) {
			return appendLong(dst, int64(n.unch)), nil
		}
	}
	mark := len(dst)
	if n.union {
		dst = appendLong(dst, int64(n.typed))
	}
	start := sc.pos
	out, ok, err := e.typed(dst, n)
	if err != nil {
		return dst[:mark], err
	}
	if ok {
		return out, nil
	}
	// Not representable by the typed branch: the text branch takes the
	// value's string as is.
	if n.text < 0 {
		return dst[:mark], e.valueErr(n, "value text that the Avro type cannot reproduce exactly")
	}
	sc.pos = start
	s, err := sc.str(&e.scratch)
	if err != nil {
		return dst[:mark], err
	}
	dst = appendLong(dst[:mark], int64(n.text))
	return appendAvroBytes(dst, s), nil
}

// typed encodes the typed branch. ok=false (no error) means the JSON
// value is a string the typed branch cannot hold exactly; the caller
// tries the text branch.
func (e *encoder) typed(dst []byte, n *node) ([]byte, bool, error) {
	sc := &e.sc
	switch n.kind {
	case tInt, tLong:
		num, okn := sc.number()
		if !okn {
			return dst, false, e.valueErr(n, "not a number")
		}
		v, okv := canonicalInt(num)
		if !okv || (n.kind == tInt && (v < math.MinInt32 || v > math.MaxInt32)) {
			return dst, false, e.valueErr(n, "not a canonical integer in range")
		}
		return appendLong(dst, v), true, nil
	case tUInt64:
		num, okn := sc.number()
		v, err := strconv.ParseUint(string(num), 10, 64)
		if !okn || err != nil || string(strconv.AppendUint(e.render[:0], v, 10)) != string(num) {
			return dst, false, e.valueErr(n, "not a canonical unsigned integer")
		}
		dst = append(dst, 0)
		for i := 7; i >= 0; i-- {
			dst = append(dst, byte(v>>(8*i)))
		}
		return dst, true, nil
	case tFloat, tDouble:
		return e.float(dst, n)
	case tBool:
		switch {
		case sc.literal("true"):
			return append(dst, 1), true, nil
		case sc.literal("false"):
			return append(dst, 0), true, nil
		}
		return dst, false, e.valueErr(n, "not true or false")
	case tString, tUUID:
		s, err := sc.str(&e.scratch)
		if err != nil {
			return dst, false, e.valueErr(n, "not a string")
		}
		return appendAvroBytes(dst, s), true, nil
	case tBytes:
		s, err := sc.str(&e.scratch)
		if err != nil || len(s) < 2 || s[0] != '\\' || s[1] != 'x' || len(s)%2 != 0 {
			return dst, false, e.valueErr(n, `not a "\\x" hex string`)
		}
		dst = appendLong(dst, int64(len(s)/2-1))
		for i := 2; i < len(s); i += 2 {
			hi, ok1 := unhex(s[i])
			lo, ok2 := unhex(s[i+1])
			if !ok1 || !ok2 {
				return dst, false, e.valueErr(n, "not lower-case hex")
			}
			dst = append(dst, hi<<4|lo)
		}
		return dst, true, nil
	case tDecimal:
		s, err := sc.str(&e.scratch)
		if err != nil {
			return dst, false, e.valueErr(n, "not a string")
		}
		mark := len(dst)
		dst = append(dst, 0) // length placeholder, one byte while < 64
		out, ok := appendDecimalBytes(dst, s, n.prec, n.scale)
		if !ok {
			return dst[:mark], false, nil
		}
		return fixLength(out, mark), true, nil
	case tEnum:
		s, err := sc.str(&e.scratch)
		if err != nil {
			return dst, false, e.valueErr(n, "not a string")
		}
		if len(s) == 0 && n.emptySym >= 0 {
			return appendLong(dst, int64(n.emptySym)), true, nil
		}
		i, ok := n.symIdx[string(s)]
		if !ok || (n.emptySym >= 0 && i == n.emptySym) {
			return dst, false, fmt.Errorf("%d-byte label: %w", len(s), ErrEnumSymbol)
		}
		return appendLong(dst, int64(i)), true, nil
	case tOther:
		return e.other(dst, n)
	case tArray:
		return e.array(dst, n)
	}
	return e.temporal(dst, n)
}

// fixLength turns the one-byte length placeholder at mark into the
// varint length of the bytes after it.
func fixLength(b []byte, mark int) []byte {
	n := len(b) - mark - 1
	if n < 64 {
		b[mark] = byte(n << 1)
		return b
	}
	var lb [10]byte
	l := appendLong(lb[:0], int64(n))
	b = append(b, l[1:]...) // grow by len(l)-1
	copy(b[mark+len(l):], b[mark+1:mark+1+n])
	copy(b[mark:], l)
	return b
}

// canonicalInt parses -?(0|[1-9][0-9]*) into an int64.
func canonicalInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	neg := b[0] == '-'
	d := b
	if neg {
		d = b[1:]
	}
	if len(d) == 0 || (d[0] == '0' && (len(d) > 1 || neg)) {
		return 0, false
	}
	if len(d) < 19 {
		var v int64
		for _, c := range d {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int64(c-'0')
		}
		if neg {
			v = -v
		}
		return v, true
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	return v, err == nil
}

func (e *encoder) float(dst []byte, n *node) ([]byte, bool, error) {
	sc := &e.sc
	bits := 64
	if n.kind == tFloat {
		bits = 32
	}
	var f float64
	if sc.peek() == '"' {
		s, err := sc.str(&e.scratch)
		if err != nil {
			return dst, false, e.valueErr(n, "not a number")
		}
		switch string(s) {
		case "NaN":
			f = math.NaN()
		case "Infinity":
			f = math.Inf(1)
		case "-Infinity":
			f = math.Inf(-1)
		default:
			return dst, false, e.valueErr(n, "string that is not NaN or ±Infinity")
		}
	} else {
		num, ok := sc.number()
		if !ok {
			return dst, false, e.valueErr(n, "not a number")
		}
		var err error
		if f, err = strconv.ParseFloat(string(num), bits); err != nil {
			return dst, false, e.valueErr(n, "not a float")
		}
		if e.render = e.c.appendFloat(e.render[:0], f, bits); !bytes.Equal(e.render, num) {
			return dst, false, e.valueErr(n, "not the shortest float text")
		}
	}
	if bits == 32 {
		return appendFloat32(dst, float32(f)), true, nil
	}
	return appendFloat64(dst, f), true, nil
}

// appendFloat renders a finite float as the flavor prints it.
func (c *Codec) appendFloat(dst []byte, f float64, bits int) []byte {
	if c.flavor == MySQL {
		return appendMySQLFloat(dst, f, bits)
	}
	return appendPGFloat(dst, f, bits)
}

// other encodes {"$type":name,"text":text}.
func (e *encoder) other(dst []byte, n *node) ([]byte, bool, error) {
	sc := &e.sc
	if !sc.literal(`{"$type":`) {
		return dst, false, e.valueErr(n, `not a {"$type":...} object`)
	}
	t, err := sc.str(&e.scratch)
	if err != nil || !sc.literal(`,"text":`) {
		return dst, false, e.valueErr(n, `malformed {"$type":...} object`)
	}
	dst = appendAvroBytes(dst, t)
	x, err := sc.str(&e.scratch)
	if err != nil || !sc.expect('}') {
		return dst, false, e.valueErr(n, `malformed {"$type":...} object`)
	}
	return appendAvroBytes(dst, x), true, nil
}

// temporal encodes dates, times, timestamps, timetz and intervals: the
// text is parsed, rendered again, and kept only when identical.
func (e *encoder) temporal(dst []byte, n *node) ([]byte, bool, error) {
	s, err := e.sc.str(&e.scratch)
	if err != nil {
		return dst, false, e.valueErr(n, "not a string")
	}
	pg := e.c.flavor == Postgres
	r := e.render[:0]
	var (
		v  int64
		ok bool
	)
	switch n.kind {
	case tDate:
		if pg {
			if v, ok = parsePGDate(s); ok {
				r = appendPGDate(r, v)
			}
		} else if v, _, ok = parseMySQLDate(s); ok && len(s) == 10 {
			r = appendMySQLDate(r, v)
		}
	case tTimeMicros:
		if pg {
			var j int
			if v, j, ok = parsePGTime(s, 0); ok && j == len(s) {
				r = appendPGTime(r, v)
			}
		} else if v, ok = parseMySQLTime(s); ok {
			r = appendMySQLTime(r, v, n.fsp)
		}
	case tTimestamp, tLocalTimestamp:
		if pg {
			if v, ok = parsePGTimestamp(s, n.kind == tTimestamp); ok {
				r = appendPGTimestamp(r, v, n.kind == tTimestamp)
			}
		} else if v, ok = parseMySQLDatetime(s); ok {
			r = appendMySQLDatetime(r, v, n.fsp)
		}
	case tTimeTZ:
		var east int64
		if v, east, ok = parsePGTimeTZ(s); ok && east >= math.MinInt32 && east <= math.MaxInt32 {
			if r = appendPGTimeTZ(r, v, east); bytes.Equal(r, s) {
				e.render = r
				dst = appendLong(dst, v)
				return appendLong(dst, east), true, nil
			}
		}
		e.render = r
		return e.temporalMiss(dst, n)
	case tInterval:
		var months, days int32
		if months, days, v, ok = parsePGInterval(s); ok {
			if r = appendPGInterval(r, months, days, v); bytes.Equal(r, s) {
				e.render = r
				dst = appendLong(dst, int64(months))
				dst = appendLong(dst, int64(days))
				return appendLong(dst, v), true, nil
			}
		}
		e.render = r
		return e.temporalMiss(dst, n)
	default:
		return dst, false, e.valueErr(n, "unknown kind")
	}
	e.render = r
	if !ok || !bytes.Equal(r, s) {
		return e.temporalMiss(dst, n)
	}
	return appendLong(dst, v), true, nil
}

func (e *encoder) temporalMiss(dst []byte, n *node) ([]byte, bool, error) {
	if n.text >= 0 {
		return dst, false, nil
	}
	return dst, false, e.valueErr(n, "text that is not the canonical form of the type")
}

func kindName(k tkind) string {
	switch k {
	case tInt:
		return "int"
	case tLong:
		return "long"
	case tFloat:
		return "float"
	case tDouble:
		return "double"
	case tBool:
		return "boolean"
	case tString:
		return "string"
	case tBytes:
		return "bytes"
	case tUUID:
		return "uuid"
	case tDecimal:
		return "decimal"
	case tUInt64:
		return "UInt64"
	case tDate:
		return "date"
	case tTimeMicros:
		return "time-micros"
	case tTimestamp:
		return "timestamp-micros"
	case tLocalTimestamp:
		return "local-timestamp-micros"
	case tTimeTZ:
		return "TimeTZ"
	case tInterval:
		return "Interval"
	case tEnum:
		return "enum"
	case tOther:
		return "Other"
	case tArray:
		return "array"
	}
	return "?"
}
