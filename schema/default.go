package schema

import (
	"strconv"
	"unicode/utf8"
)

// avroDefault converts a column's canonical default value into the Avro
// JSON default of its typed branch, by encoding it with a one-column
// codec node and reading the binary back. Kinds without a simple JSON
// default (records, arrays) and values that need the text branch give
// ok=false: the field then has no default.
func avroDefault(s *spec, f Flavor, canonical []byte) (js []byte, ok bool) {
	switch s.kind {
	case tTimeTZ, tInterval, tOther, tArray:
		return nil, false
	}
	c := &Codec{flavor: f}
	n := &node{kind: s.kind, null: -1, typed: -1, multi: -1, text: -1, unch: -1, emptySym: -1,
		prec: s.prec, scale: s.scale, symbols: s.symbols}
	if s.text != "" {
		n.text, n.union = 1, true
		n.typed = 0
	}
	if s.kind == tEnum {
		n.symIdx = map[string]int{}
		for i, sym := range s.symbols {
			n.symIdx[sym] = i
			if sym == mysqlEmptySymbol && f == MySQL {
				n.emptySym = i
			}
		}
	}
	if f == MySQL && s.text != "" {
		// fsp from the text record's name.
		name := s.text[len(nsMySQL)+1:]
		for len(name) > 0 && name[len(name)-1] >= '0' && name[len(name)-1] <= '9' {
			n.fsp = int(name[len(name)-1] - '0')
			name = name[:len(name)-1]
		}
	}
	e := &encoder{c: c, sc: scanner{src: canonical}}
	bin, err := e.value(nil, n)
	if err != nil || e.sc.pos != len(canonical) {
		return nil, false
	}
	r := reader{b: bin}
	if n.union {
		idx, err := r.long()
		if err != nil || idx != int64(n.typed) {
			return nil, false
		}
	}
	switch s.kind {
	case tInt, tLong, tDate, tTimeMicros, tTimestamp, tLocalTimestamp, tEnum:
		v, err := r.long()
		if err != nil {
			return nil, false
		}
		if s.kind == tEnum {
			return AppendJSONString(nil, s.symbols[v]), true
		}
		return strconv.AppendInt(nil, v, 10), true
	case tFloat, tDouble:
		var f64 float64
		if s.kind == tFloat {
			f32, err := r.float32()
			if err != nil {
				return nil, false
			}
			f64 = float64(f32)
		} else if f64, err = r.float64(); err != nil {
			return nil, false
		}
		if f64 != f64 || f64 > 1.7976931348623157e308 || f64 < -1.7976931348623157e308 {
			return nil, false // NaN and infinities have no JSON form
		}
		return strconv.AppendFloat(nil, f64, 'g', -1, 64), true
	case tBool:
		b, err := r.bool()
		if err != nil {
			return nil, false
		}
		return strconv.AppendBool(nil, b), true
	case tString, tUUID:
		b, err := r.bytes()
		if err != nil || !utf8.Valid(b) {
			return nil, false
		}
		return AppendJSONString(nil, b), true
	case tBytes, tDecimal, tUInt64:
		var b []byte
		if s.kind == tUInt64 {
			b, err = r.fixed(uint64FixedSize)
		} else {
			b, err = r.bytes()
		}
		if err != nil {
			return nil, false
		}
		// Avro JSON encodes bytes as a string of code points 0-255.
		runes := make([]byte, 0, len(b)*2)
		for _, c := range b {
			runes = utf8.AppendRune(runes, rune(c))
		}
		return AppendJSONString(nil, runes), true
	}
	return nil, false
}
