package schema

import "errors"

// Sentinel errors. Messages wrap them with the failing step and name the
// subject, column or type involved, never a row value: values may be
// sensitive.
var (
	// ErrTable: a Table or Column is not valid input for Derive.
	ErrTable = errors.New("invalid table metadata")
	// ErrUnsupportedSchema: a schema was not derived by this package (or
	// by a version of it this code does not know), so no row codec can be
	// built for it.
	ErrUnsupportedSchema = errors.New("schema is not a Cairn row schema")
	// ErrRowShape: a row image does not have the columns of its schema,
	// in order (or is not a JSON object of the canonical form).
	ErrRowShape = errors.New("row image does not match the schema")
	// ErrRowValue: a value cannot be encoded for its column: wrong JSON
	// type, out of range, NULL in a NOT NULL column, or text that the
	// column's Avro type cannot reproduce byte for byte.
	ErrRowValue = errors.New("value does not fit its column")
	// ErrEnumSymbol: an enum value is not one of the schema's symbols
	// (the source gained a label since the schema was derived; derive and
	// register a new version, then encode again).
	ErrEnumSymbol = errors.New("enum value is not a symbol of the schema")
	// ErrAvroData: Avro binary is truncated or malformed for its schema.
	ErrAvroData = errors.New("malformed Avro row data")
	// ErrNotFound: no such subject, version, id or fingerprint.
	ErrNotFound = errors.New("not found in the schema registry")
	// ErrRegistration: a registration payload or schema is malformed.
	ErrRegistration = errors.New("invalid schema registration")
	// ErrMode: an unknown compatibility mode.
	ErrMode = errors.New("unknown compatibility mode")
)
