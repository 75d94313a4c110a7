package postgres

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// TextOf reproduces PostgreSQL's text output (what `SELECT col::text` prints
// under Cairn's session settings) from a canonical value of type t. It is
// the inverse of AppendValue, for tests and tooling, not for the capture
// path. A JSON null gives isNull. The unchanged-TOAST marker has no text
// and gives ErrUnchangedValue.
//
// When t came from Types.Lookup or Types.Resolve, array element types are
// looked up in the same Types; for a hand-built TypeInfo, array elements
// are taken as scalars and the delimiter is ',' (';' for box[]).
//
// One canonical value can stand for two texts only for arrays whose
// element type is itself an array (a domain over an array): TextOf then
// treats the outer JSON array as one dimension.
func TextOf(t *TypeInfo, canonical json.RawMessage) (text string, isNull bool, err error) {
	if t == nil {
		return "", false, fmt.Errorf("text of canonical value: nil type: %w", ErrBadCanonical)
	}
	dec := json.NewDecoder(bytes.NewReader(canonical))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", false, fmt.Errorf("text of %s value: %v: %w", t.Name, err, ErrBadCanonical)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "", false, fmt.Errorf("text of %s value: data after the value: %w", t.Name, ErrBadCanonical)
	}
	if v == nil {
		return "", true, nil
	}
	b, err := appendText(nil, entryOf(t), v)
	if err != nil {
		return "", false, err
	}
	return string(b), false, nil
}

// entryOf finds t's decoding rule: from the Types it came from, or else
// from t alone.
func entryOf(t *TypeInfo) *typeEntry {
	if t.set != nil {
		if e, ok := t.set.byOID[t.OID]; ok {
			return e
		}
	}
	alone := *t
	alone.set = nil
	return NewTypes([]TypeInfo{alone}).byOID[t.OID]
}

// appendText appends the text of one non-null canonical value.
func appendText(dst []byte, e *typeEntry, v any) ([]byte, error) {
	switch v := v.(type) {
	case bool:
		if v {
			return append(dst, 't'), nil
		}
		return append(dst, 'f'), nil
	case json.Number:
		return append(dst, v...), nil
	case string:
		return append(dst, v...), nil
	case map[string]any:
		if _, ok := v["$unchanged"]; ok {
			return dst, fmt.Errorf("text of %s value: %w", e.info.Name, ErrUnchangedValue)
		}
		s, ok := v["text"].(string)
		if _, typed := v["$type"].(string); !typed || !ok {
			return dst, fmt.Errorf("text of %s value: object without $type and text: %w", e.info.Name, ErrBadCanonical)
		}
		return append(dst, s...), nil
	case []any:
		if e.kind != kindArray {
			return dst, fmt.Errorf("text of %s value: JSON array for a non-array type: %w", e.info.Name, ErrBadCanonical)
		}
		return appendArrayText(dst, e, v, 1)
	case nil:
		return dst, fmt.Errorf("text of %s value: null where a value is needed: %w", e.info.Name, ErrBadCanonical)
	}
	return dst, fmt.Errorf("text of %s value: unexpected %T: %w", e.info.Name, v, ErrBadCanonical)
}

// appendArrayText renders a JSON array as array_out would: nested JSON
// arrays are further dimensions unless the element type is an array.
func appendArrayText(dst []byte, e *typeEntry, arr []any, depth int) ([]byte, error) {
	if depth > maxArrayDims {
		return dst, fmt.Errorf("text of %s value: more than 6 dimensions: %w", e.info.Name, ErrBadCanonical)
	}
	dst = append(dst, '{')
	var elem []byte
	for i, x := range arr {
		if i > 0 {
			dst = append(dst, e.delim)
		}
		if x == nil {
			dst = append(dst, "NULL"...)
			continue
		}
		if sub, ok := x.([]any); ok && e.elem.kind != kindArray {
			var err error
			if dst, err = appendArrayText(dst, e, sub, depth+1); err != nil {
				return dst, err
			}
			continue
		}
		var err error
		if elem, err = appendText(elem[:0], e.elem, x); err != nil {
			return dst, err
		}
		dst = appendArrayElement(dst, elem, e.delim)
	}
	return append(dst, '}'), nil
}

// appendArrayElement appends one element's text, quoted the way array_out
// quotes: when it is empty, spells NULL in any case, or holds the
// delimiter, a brace, a double quote, a backslash or whitespace; inside
// quotes '"' and '\\' are backslash-escaped.
func appendArrayElement(dst, s []byte, delim byte) []byte {
	quote := len(s) == 0 || isNULLToken(s)
	for _, c := range s {
		if c == '"' || c == '\\' || c == '{' || c == '}' || c == delim || isArraySpace(c) {
			quote = true
			break
		}
	}
	if !quote {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for _, c := range s {
		if c == '"' || c == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	return append(dst, '"')
}
