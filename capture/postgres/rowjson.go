package postgres

import (
	"fmt"

	"github.com/cairnlog/cairn/schema"
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
		dst = schema.AppendJSONString(dst, cols[i].Name)
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
