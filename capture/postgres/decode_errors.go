package postgres

import "errors"

// Sentinel errors of the value decoder (types.go, decode.go, rowjson.go,
// textof.go). Callers test them with errors.Is; the wrapping message names
// the type or column, never the value.
var (
	ErrBadValue       = errors.New("text value does not match its type's output format")
	ErrBadArray       = errors.New("malformed array literal")
	ErrValueKind      = errors.New("unsupported tuple value kind (binary values are not requested)")
	ErrColumnCount    = errors.New("column and value counts differ")
	ErrBadCanonical   = errors.New("malformed canonical row-image value")
	ErrUnchangedValue = errors.New("unchanged TOAST marker has no text")
)
