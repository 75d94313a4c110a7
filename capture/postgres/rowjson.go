package postgres

import (
	"fmt"
	"unicode/utf8"
)

// Column is one column of a relation, in the relation's column order.
type Column struct {
	Name    string
	TypeOID uint32
}

// Value is one column value of a pgoutput tuple.
type Value struct {
	Kind byte   // ValueNull, ValueUnchanged or ValueText
	Data []byte // the type's text output when Kind is ValueText
}

// Value kinds, as pgoutput tags tuple columns.
const (
	ValueNull      = 'n' // SQL NULL
	ValueUnchanged = 'u' // unchanged TOAST value, not sent
	ValueText      = 't' // text output of the column's type
)

// unchangedMarker is the row-image value of an unchanged TOAST column.
const unchangedMarker = `{"$unchanged":true}`

// AppendRow appends the row image of one tuple: a JSON object with one key
// per column, in column order, and no whitespace (cairn row JSON v1, see
// docs/formats/row-json.md). On error dst is returned unchanged.
func AppendRow(dst []byte, ts *Types, cols []Column, values []Value) ([]byte, error) {
	if len(cols) != len(values) {
		return dst, fmt.Errorf("row image: %d columns but %d values: %w", len(cols), len(values), ErrColumnCount)
	}
	n := len(dst)
	dst = append(dst, '{')
	for i := range cols {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, cols[i].Name)
		dst = append(dst, ':')
		v := &values[i]
		switch v.Kind {
		case ValueNull:
			dst = append(dst, "null"...)
		case ValueUnchanged:
			dst = append(dst, unchangedMarker...)
		case ValueText:
			var err error
			if dst, err = ts.AppendValue(dst, cols[i].TypeOID, v.Data); err != nil {
				return dst[:n], fmt.Errorf("row image: column %q: %w", cols[i].Name, err)
			}
		default:
			return dst[:n], fmt.Errorf("row image: column %q: kind %q: %w", cols[i].Name, v.Kind, ErrValueKind)
		}
	}
	return append(dst, '}'), nil
}

// appendJSONString appends src as a JSON string exactly as encoding/json
// does with SetEscapeHTML(false): '"' and '\\' backslash-escaped; \b \f \n
// \r \t short-escaped; other bytes below 0x20 as \u00xx (lower-case hex);
// U+2028 and U+2029 as \u2028 and \u2029; each byte of invalid UTF-8 as
// \ufffd; everything else (including DEL and <>&) as is.
func appendJSONString[S []byte | string](dst []byte, src S) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(src); {
		b := src[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, src[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xf])
			}
			i++
			start = i
			continue
		}
		// At most UTFMax bytes are converted, so the conversion stays on
		// the stack (the same trick encoding/json uses).
		n := min(len(src)-i, utf8.UTFMax)
		c, size := utf8.DecodeRuneInString(string(src[i : i+n]))
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, src[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, src[start:]...)
	return append(dst, '"')
}
