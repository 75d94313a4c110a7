package mysql

import (
	"errors"
	"fmt"
	"slices"

	"github.com/cairnlog/cairn/schema"
)

// Errors of the row encoder (docs/formats/mysql-row-json.md). Messages
// name the column and its type (ColumnsFromTableMap's also the table),
// never a value: values may be sensitive.
var (
	// ErrRowMetadata: a table map lacks the full row metadata
	// (binlog_row_metadata is not FULL).
	ErrRowMetadata = errors.New("table map lacks full row metadata")
	// ErrRowShape: a row or key does not match the table's columns.
	ErrRowShape = errors.New("row does not match the table's columns")
	// ErrRowValue: a decoded value does not fit its column (unexpected Go
	// type, out of range, malformed text).
	ErrRowValue = errors.New("value does not fit its column")
)

// AppendRow appends the row image of one row: a JSON object with one key
// per column, in table order, and no whitespace (cairn MySQL row JSON v1,
// see docs/formats/mysql-row-json.md). row holds the values as go-mysql
// decoded them, one per column; nil is SQL NULL. On error dst is returned
// unchanged.
func AppendRow(dst []byte, cols []ColumnInfo, row []any) ([]byte, error) {
	if len(row) != len(cols) {
		return dst, fmt.Errorf("row image: %d columns but %d values: %w", len(cols), len(row), ErrRowShape)
	}
	n := len(dst)
	dst = append(dst, '{')
	for i := range cols {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = appendMember(dst, &cols[i], row[i]); err != nil {
			return dst[:n], err
		}
	}
	return append(dst, '}'), nil
}

// AppendKey appends the key image of one row: the object of only the
// columns at idx (the primary key), in table order whatever the order of
// idx, with the same values as AppendRow. On error dst is returned
// unchanged.
func AppendKey(dst []byte, cols []ColumnInfo, row []any, idx []int) ([]byte, error) {
	if len(row) != len(cols) {
		return dst, fmt.Errorf("key image: %d columns but %d values: %w", len(cols), len(row), ErrRowShape)
	}
	if len(idx) == 0 {
		return dst, fmt.Errorf("key image: no key columns: %w", ErrRowShape)
	}
	if !slices.IsSorted(idx) {
		idx = slices.Sorted(slices.Values(idx))
	}
	n := len(dst)
	dst = append(dst, '{')
	for k, i := range idx {
		switch {
		case i < 0 || i >= len(cols):
			return dst[:n], fmt.Errorf("key image: key column %d of a table with %d columns: %w", i, len(cols), ErrRowShape)
		case k > 0 && idx[k-1] == i:
			return dst[:n], fmt.Errorf("key image: key column %d listed twice: %w", i, ErrRowShape)
		case k > 0:
			dst = append(dst, ',')
		}
		var err error
		if dst, err = appendMember(dst, &cols[i], row[i]); err != nil {
			return dst[:n], err
		}
	}
	return append(dst, '}'), nil
}

// appendMember appends "name":value for one column.
func appendMember(dst []byte, c *ColumnInfo, v any) ([]byte, error) {
	dst = schema.AppendJSONString(dst, c.Name)
	dst = append(dst, ':')
	if v == nil {
		return append(dst, "null"...), nil
	}
	dst, err := appendValue(dst, c, v)
	if err != nil {
		return dst, fmt.Errorf("column %q (%s): %w", c.Name, typeName(c.Type), err)
	}
	return dst, nil
}
