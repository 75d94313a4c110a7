package schema

import (
	"fmt"
	"strings"
)

// Flavor is the kind of source database a table comes from. It decides
// how source type names are read and how canonical row-image text is
// written back (docs/formats/row-json.md, mysql-row-json.md).
type Flavor string

// Flavors.
const (
	Postgres Flavor = "postgres"
	MySQL    Flavor = "mysql" // MySQL and MariaDB
)

// Class is the kind of a PostgreSQL type (pg_type.typtype) after domains
// are resolved. MySQL columns leave it at ClassBase.
type Class uint8

// Classes.
const (
	ClassBase       Class = iota // a base type, named by Column.Base or Column.Type
	ClassEnum                    // an enum (labels in Column.EnumValues)
	ClassRange                   // a range type
	ClassMultirange              // a multirange type
	ClassComposite               // a composite (row) type
	ClassOther                   // pseudo-types and anything capture cannot classify
)

// Column describes one column of a captured table, as capture sees it.
//
// For a PostgreSQL domain, Type is the domain's name and Base the name of
// the type the domain chain resolves to; every other type-describing
// field (Class, Elem, EnumValues, Precision, ...) describes that resolved
// type. Type names outside pg_catalog are schema-qualified
// ("public.mood"), as capture/postgres loads them.
type Column struct {
	Name string
	// Type is the source type name: PostgreSQL typname ("int4", "numeric",
	// "_text", "timestamptz", "public.mood"); MySQL the lower-case column
	// type ("int", "int unsigned", "decimal", "datetime", "varbinary").
	Type string
	// Base is the domain-resolved PostgreSQL type name when Type is a
	// domain; "" otherwise.
	Base string
	// Class is the PostgreSQL kind of the (resolved) type.
	Class Class
	// Elem is the element type of a PostgreSQL array type ("_int4" has
	// Elem{Type: "int4"}). Only its type-describing fields are used.
	Elem *Column
	// Nullable reports whether the column accepts NULL (PostgreSQL: not
	// attnotnull; MySQL: the table map's null bitmap).
	Nullable bool
	// Default is the canonical row-JSON value of the column's default when
	// it is a constant (e.g. `0`, `"none"`); "" when there is none or it is
	// not a constant. It becomes the Avro field default of a NOT NULL
	// column, which decides whether adding the column is backward
	// compatible.
	Default string
	// Precision and Scale: numeric(p,s) / DECIMAL(p,s). Precision also
	// holds the fractional-seconds precision of MySQL TIME, DATETIME and
	// TIMESTAMP (0..6); it is informational for PostgreSQL time types.
	Precision, Scale int
	// Length: varchar(n), char(n), bit(n) (PostgreSQL); CHAR/BINARY(n) and
	// BIT(n) in bits (MySQL). Informational except for MySQL BIT.
	Length int
	// EnumValues: enum labels in their sort order (PostgreSQL
	// pg_enum.enumsortorder); MySQL ENUM and SET members in definition
	// order.
	EnumValues []string
	// Unsigned: a MySQL UNSIGNED numeric column (also implied by an
	// " unsigned" suffix of Type).
	Unsigned bool
	// Binary: a MySQL character column with the binary character set
	// (BINARY, VARBINARY, BLOB); also implied by those type names.
	Binary bool
}

// Table is the shape of one captured table at one point in time.
type Table struct {
	Source    string // the Cairn source (stream) name
	Namespace string // PostgreSQL schema or MySQL database
	Name      string
	Flavor    Flavor
	Columns   []Column // in the source's column order
	Key       []string // primary key (or replica identity) column names
}

// Subject is the registry subject of the table: "{source}.{namespace}.{table}".
func (t Table) Subject() string { return SubjectOf(t.Source, t.Namespace, t.Name) }

// SubjectOf builds a subject name "{source}.{namespace}.{table}".
func SubjectOf(source, namespace, table string) string {
	return source + "." + namespace + "." + table
}

// Validate checks what Derive needs: a flavor, names, unique column
// names, key columns that exist, and array element types.
func (t Table) Validate() error {
	if t.Flavor != Postgres && t.Flavor != MySQL {
		return fmt.Errorf("table %s: flavor %q (want %q or %q): %w", t.Subject(), t.Flavor, Postgres, MySQL, ErrTable)
	}
	if t.Source == "" || t.Namespace == "" || t.Name == "" {
		return fmt.Errorf("table %q: source, namespace and name are required: %w", t.Subject(), ErrTable)
	}
	seen := make(map[string]bool, len(t.Columns))
	for i := range t.Columns {
		c := &t.Columns[i]
		if c.Name == "" {
			return fmt.Errorf("table %s: column %d has no name: %w", t.Subject(), i+1, ErrTable)
		}
		if seen[c.Name] {
			return fmt.Errorf("table %s: column %q twice: %w", t.Subject(), c.Name, ErrTable)
		}
		seen[c.Name] = true
		if c.Type == "" {
			return fmt.Errorf("table %s: column %q has no type: %w", t.Subject(), c.Name, ErrTable)
		}
		for e, depth := c.Elem, 0; e != nil; e, depth = e.Elem, depth+1 {
			if depth > 8 {
				return fmt.Errorf("table %s: column %q: array element types nest too deep: %w", t.Subject(), c.Name, ErrTable)
			}
			if t.Flavor != Postgres {
				return fmt.Errorf("table %s: column %q: array types are PostgreSQL only: %w", t.Subject(), c.Name, ErrTable)
			}
		}
	}
	for _, k := range t.Key {
		if !seen[k] {
			return fmt.Errorf("table %s: key column %q is not a column: %w", t.Subject(), k, ErrTable)
		}
	}
	return nil
}

// mysqlType splits a MySQL type name into its base name and whether it is
// unsigned: "int unsigned" -> ("int", true).
func mysqlType(c *Column) (name string, unsigned bool) {
	name = strings.ToLower(strings.TrimSpace(c.Type))
	for _, suffix := range []string{" unsigned zerofill", " unsigned", " zerofill"} {
		if strings.HasSuffix(name, suffix) {
			name = strings.TrimSpace(strings.TrimSuffix(name, suffix))
			unsigned = true // ZEROFILL implies UNSIGNED
			break
		}
	}
	if i := strings.IndexByte(name, '('); i >= 0 {
		name = strings.TrimSpace(name[:i])
	}
	return name, unsigned || c.Unsigned
}
