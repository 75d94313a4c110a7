package postgres

import (
	"fmt"
	"strconv"

	"github.com/cairnlog/cairn/schema"
)

// maxArrayDims is PostgreSQL's MAXDIM: no array it prints is deeper.
const maxArrayDims = 6

// AppendValue appends the canonical JSON of one non-null text value of type
// oid (see docs/formats/row-json.md). An OID missing from ts becomes a
// "$type" object named by the decimal OID. On error dst is returned
// unchanged and the error wraps ErrBadValue or ErrBadArray; it names the
// type but never quotes the value, which may be sensitive.
func (ts *Types) AppendValue(dst []byte, oid uint32, text []byte) ([]byte, error) {
	e, ok := ts.byOID[oid]
	if !ok {
		return appendUnknownOID(dst, oid, text), nil
	}
	out, err := appendByRule(dst, e, text)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// appendByRule appends text mapped by e's rule. On error the returned slice
// may hold a partial value; callers truncate.
func appendByRule(dst []byte, e *typeEntry, text []byte) ([]byte, error) {
	switch e.kind {
	case kindInt:
		if !isJSONInteger(text) {
			return dst, badValue(e, "not an integer")
		}
		return append(dst, text...), nil
	case kindFloat:
		if isJSONNumber(text) {
			return append(dst, text...), nil
		}
		switch string(text) {
		case "NaN", "Infinity", "-Infinity":
			dst = append(dst, '"')
			dst = append(dst, text...)
			return append(dst, '"'), nil
		}
		return dst, badValue(e, "not a float")
	case kindBool:
		if len(text) == 1 {
			switch text[0] {
			case 't':
				return append(dst, "true"...), nil
			case 'f':
				return append(dst, "false"...), nil
			}
		}
		return dst, badValue(e, "not t or f")
	case kindString:
		return schema.AppendJSONString(dst, text), nil
	case kindBytea:
		if !isHexBytea(text) {
			return dst, badValue(e, `not hex bytea output (\x...); is bytea_output 'hex'?`)
		}
		// Only hex digits follow the backslash, so the JSON string is
		// the text with the backslash doubled.
		dst = append(dst, '"', '\\', '\\')
		dst = append(dst, text[1:]...)
		return append(dst, '"'), nil
	case kindArray:
		return appendArray(dst, e, text)
	}
	return appendTypeObject(dst, e.typeName, text), nil
}

func badValue(e *typeEntry, why string) error {
	return fmt.Errorf("decode %s value: %s: %w", e.info.Name, why, ErrBadValue)
}

func badArray(e *typeEntry, p *arrayParser, why string) error {
	return fmt.Errorf("decode %s value: byte %d: %s: %w", e.info.Name, p.pos, why, ErrBadArray)
}

// appendTypeObject appends {"$type":name,"text":text}.
func appendTypeObject[S []byte | string](dst []byte, name string, text S) []byte {
	dst = append(dst, `{"$type":`...)
	dst = schema.AppendJSONString(dst, name)
	dst = append(dst, `,"text":`...)
	dst = schema.AppendJSONString(dst, text)
	return append(dst, '}')
}

func appendUnknownOID(dst []byte, oid uint32, text []byte) []byte {
	dst = append(dst, `{"$type":"`...)
	dst = strconv.AppendUint(dst, uint64(oid), 10)
	dst = append(dst, `","text":`...)
	dst = schema.AppendJSONString(dst, text)
	return append(dst, '}')
}

// isJSONInteger reports whether b is -?(0|[1-9][0-9]*).
func isJSONInteger(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return false
	}
	if b[i] == '0' {
		return i+1 == len(b)
	}
	for ; i < len(b); i++ {
		if b[i] < '0' || b[i] > '9' {
			return false
		}
	}
	return true
}

// isJSONNumber reports whether b is a number in RFC 8259's grammar.
func isJSONNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return false
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		i = skipDigits(b, i+1)
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		j := skipDigits(b, i+1)
		if j == i+1 {
			return false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := skipDigits(b, i)
		if j == i {
			return false
		}
		i = j
	}
	return i == len(b)
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// isHexBytea reports whether b is \x followed by an even number of hex digits.
func isHexBytea(b []byte) bool {
	if len(b) < 2 || b[0] != '\\' || b[1] != 'x' || len(b)%2 != 0 {
		return false
	}
	for _, c := range b[2:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// isArraySpace is array_isspace / scanner_isspace in PostgreSQL.
func isArraySpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// isNULLToken reports whether an unquoted element spells NULL in any case.
func isNULLToken(b []byte) bool {
	return len(b) == 4 && b[0]|0x20 == 'n' && b[1]|0x20 == 'u' && b[2]|0x20 == 'l' && b[3]|0x20 == 'l'
}

// arrayParser reads a PostgreSQL array literal as array_out prints it (and
// as array_in accepts it: whitespace around elements, quoted sections and
// backslash escapes anywhere in an element).
type arrayParser struct {
	src     []byte
	pos     int
	delim   byte
	scratch []byte // unescaped element text when it cannot alias src
}

// appendArray maps an array literal of array type e to a JSON array. A
// literal with explicit dimension bounds ("[0:1]={...}") becomes a JSON
// string of the whole text.
func appendArray(dst []byte, e *typeEntry, text []byte) ([]byte, error) {
	p := arrayParser{src: text, delim: e.delim}
	p.skipSpace()
	if p.pos < len(text) && text[p.pos] == '[' {
		return schema.AppendJSONString(dst, text), nil
	}
	if p.pos >= len(text) || text[p.pos] != '{' {
		return dst, badArray(e, &p, "does not start with {")
	}
	p.pos++
	dst, err := p.level(dst, e, 1)
	if err != nil {
		return dst, err
	}
	p.skipSpace()
	if p.pos != len(text) {
		return dst, badArray(e, &p, "junk after the closing }")
	}
	return dst, nil
}

func (p *arrayParser) skipSpace() {
	for p.pos < len(p.src) && isArraySpace(p.src[p.pos]) {
		p.pos++
	}
}

// level parses one dimension; p.pos is just past its '{'.
func (p *arrayParser) level(dst []byte, e *typeEntry, depth int) ([]byte, error) {
	if depth > maxArrayDims {
		return dst, badArray(e, p, "more than 6 dimensions")
	}
	dst = append(dst, '[')
	p.skipSpace()
	if p.pos >= len(p.src) {
		return dst, badArray(e, p, "unterminated")
	}
	if p.src[p.pos] == '}' {
		p.pos++
		return append(dst, ']'), nil
	}
	nested := p.src[p.pos] == '{'
	for first := true; ; first = false {
		if !first {
			dst = append(dst, ',')
			p.skipSpace()
			if p.pos >= len(p.src) {
				return dst, badArray(e, p, "unterminated")
			}
		}
		var err error
		if p.src[p.pos] == '{' {
			if !nested {
				return dst, badArray(e, p, "sub-array among elements")
			}
			p.pos++
			if dst, err = p.level(dst, e, depth+1); err != nil {
				return dst, err
			}
			p.skipSpace()
		} else {
			if nested {
				return dst, badArray(e, p, "element among sub-arrays")
			}
			text, null, err := p.element(e)
			if err != nil {
				return dst, err
			}
			if null {
				dst = append(dst, "null"...)
			} else if dst, err = appendByRule(dst, e.elem, text); err != nil {
				return dst, fmt.Errorf("decode %s element: %w", e.info.Name, err)
			}
		}
		if p.pos >= len(p.src) {
			return dst, badArray(e, p, "unterminated")
		}
		switch p.src[p.pos] {
		case p.delim:
			p.pos++
		case '}':
			p.pos++
			return append(dst, ']'), nil
		default:
			return dst, badArray(e, p, "expected delimiter or }")
		}
	}
}

// element reads one element; p.pos is at its first non-space byte and ends
// at the delimiter or '}' after it (trailing whitespace consumed). The text
// aliases p.src or p.scratch and is valid until the next call.
func (p *arrayParser) element(e *typeEntry) (text []byte, null bool, err error) {
	src, start := p.src, p.pos
	// Fast paths: an unquoted token, or one quoted token, without escapes.
	if src[start] == '"' {
		j := start + 1
		for j < len(src) && src[j] != '"' && src[j] != '\\' {
			j++
		}
		if j < len(src) && src[j] == '"' {
			k := j + 1
			for k < len(src) && isArraySpace(src[k]) {
				k++
			}
			if k < len(src) && (src[k] == p.delim || src[k] == '}') {
				p.pos = k
				return src[start+1 : j], false, nil
			}
		}
	} else {
		j, simple := start, true
		for ; j < len(src); j++ {
			c := src[j]
			if c == p.delim || c == '}' {
				break
			}
			if c == '\\' || c == '"' || c == '{' {
				simple = false
				break
			}
		}
		if simple && j < len(src) {
			end := j
			for end > start && isArraySpace(src[end-1]) {
				end--
			}
			if end == start {
				return nil, false, badArray(e, p, "empty element")
			}
			p.pos = j
			tok := src[start:end]
			return tok, isNULLToken(tok), nil
		}
	}
	return p.elementSlow(e)
}

// elementSlow handles escapes, quoted sections inside a token, and errors.
func (p *arrayParser) elementSlow(e *typeEntry) (text []byte, null bool, err error) {
	src := p.src
	if p.scratch == nil {
		// No element is longer than the rest of the literal: one
		// allocation per array serves every escaped element.
		p.scratch = make([]byte, 0, len(src)-p.pos)
	}
	buf := p.scratch[:0]
	keep := 0 // len(buf) up to the last byte that is not trimmable space
	literal := false
	inQuotes := false
	for {
		if p.pos >= len(src) {
			p.scratch = buf
			return nil, false, badArray(e, p, "unterminated")
		}
		c := src[p.pos]
		switch {
		case c == '\\':
			p.pos++
			if p.pos >= len(src) {
				p.scratch = buf
				return nil, false, badArray(e, p, "unterminated escape")
			}
			buf = append(buf, src[p.pos])
			keep, literal = len(buf), true
		case inQuotes:
			if c == '"' {
				inQuotes = false
			} else {
				buf = append(buf, c)
				keep = len(buf)
			}
		case c == '"':
			inQuotes, literal = true, true
		case c == p.delim || c == '}':
			p.scratch = buf
			buf = buf[:keep]
			if !literal {
				if len(buf) == 0 {
					return nil, false, badArray(e, p, "empty element")
				}
				if isNULLToken(buf) {
					return buf, true, nil
				}
			}
			return buf, false, nil
		case c == '{':
			p.scratch = buf
			return nil, false, badArray(e, p, "unexpected {")
		case isArraySpace(c):
			if len(buf) > 0 || literal {
				buf = append(buf, c)
			}
		default:
			buf = append(buf, c)
			keep = len(buf)
		}
		p.pos++
	}
}
