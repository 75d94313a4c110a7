package mysql

import (
	"fmt"
	"strconv"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

// ColumnInfo is what the row encoder needs about one column.
type ColumnInfo struct {
	Name string
	// Type is the column's real type, a go-mysql MYSQL_TYPE_* constant. The
	// table map sends ENUM and SET columns as MYSQL_TYPE_STRING with the
	// real type in the metadata; ColumnsFromTableMap resolves them to
	// MYSQL_TYPE_ENUM and MYSQL_TYPE_SET.
	Type byte
	// Meta is the column's metadata word from the table map, unchanged:
	// the fsp of TIME2, DATETIME2 and TIMESTAMP2, precision<<8|scale of
	// NEWDECIMAL, bytes<<8|bits of BIT, real type<<8|length of STRING, ...
	Meta     uint16
	Nullable bool // the column accepts NULL (the table map's null bitmap)
	Unsigned bool // UNSIGNED numeric column
	Binary   bool // character column with the binary character set (BINARY, VARBINARY, BLOB)
	Enum     []string
	Set      []string
}

// binaryCollation is the id of the binary character set's only collation.
const binaryCollation = 63

// ColumnsFromTableMap builds the columns of the table that tm maps, in
// table order. It needs the full row metadata (binlog_row_metadata=FULL):
// without column names, signedness, character sets or ENUM/SET members it
// fails with ErrRowMetadata, naming the table.
func ColumnsFromTableMap(tm *replication.TableMapEvent) ([]ColumnInfo, error) {
	n := int(tm.ColumnCount)
	table := string(tm.Schema) + "." + string(tm.Table)
	if len(tm.ColumnType) != n || len(tm.ColumnMeta) != n {
		return nil, fmt.Errorf("table %s: table map has %d columns but %d types and %d metadata words: %w",
			table, n, len(tm.ColumnType), len(tm.ColumnMeta), ErrRowShape)
	}
	names := tm.ColumnNameString()
	if len(names) != n {
		return nil, fmt.Errorf("table %s: table map has no column names (set binlog_row_metadata=FULL on the server): %w",
			table, ErrRowMetadata)
	}
	unsigned := tm.UnsignedMap()
	collations := tm.CollationMap()
	enums := tm.EnumStrValueMap()
	sets := tm.SetStrValueMap()

	cols := make([]ColumnInfo, n)
	for i := range cols {
		c := &cols[i]
		c.Name = names[i]
		c.Meta = tm.ColumnMeta[i]
		c.Type = realColumnType(tm.ColumnType[i], c.Meta)
		c.Nullable = i/8 < len(tm.NullBitmap) && tm.NullBitmap[i/8]&(1<<(i%8)) != 0
		missing := ""
		switch c.Type {
		case gomysql.MYSQL_TYPE_TINY, gomysql.MYSQL_TYPE_SHORT, gomysql.MYSQL_TYPE_INT24,
			gomysql.MYSQL_TYPE_LONG, gomysql.MYSQL_TYPE_LONGLONG, gomysql.MYSQL_TYPE_YEAR,
			gomysql.MYSQL_TYPE_NEWDECIMAL, gomysql.MYSQL_TYPE_FLOAT, gomysql.MYSQL_TYPE_DOUBLE:
			u, ok := unsigned[i]
			if !ok {
				missing = "signedness"
			}
			c.Unsigned = u
		case gomysql.MYSQL_TYPE_STRING, gomysql.MYSQL_TYPE_VARCHAR, gomysql.MYSQL_TYPE_VAR_STRING,
			gomysql.MYSQL_TYPE_BLOB:
			coll, ok := collations[i]
			if !ok {
				missing = "character set"
			}
			c.Binary = coll == binaryCollation
		case gomysql.MYSQL_TYPE_ENUM:
			members, ok := enums[i]
			if !ok {
				missing = "ENUM members"
			}
			c.Enum = append([]string(nil), members...)
		case gomysql.MYSQL_TYPE_SET:
			members, ok := sets[i]
			switch {
			case !ok:
				missing = "SET members"
			case len(members) > 64:
				return nil, fmt.Errorf("table %s: column %q: SET with %d members (at most 64): %w",
					table, c.Name, len(members), ErrRowMetadata)
			}
			c.Set = append([]string(nil), members...)
		}
		if missing != "" {
			return nil, fmt.Errorf("table %s: column %q: table map has no %s (set binlog_row_metadata=FULL on the server): %w",
				table, c.Name, missing, ErrRowMetadata)
		}
	}
	return cols, nil
}

// realColumnType resolves the type a table map gives a column. A
// MYSQL_TYPE_STRING column carries its real type (STRING, ENUM or SET) in
// the high byte of its metadata. For CHAR columns longer than 255 bytes
// MySQL folds two length bits into that byte, inverted, so the bits 0x30
// are set back.
func realColumnType(typ byte, meta uint16) byte {
	if typ != gomysql.MYSQL_TYPE_STRING || meta < 256 {
		return typ
	}
	b0 := byte(meta >> 8)
	if b0&0x30 != 0x30 {
		return b0 | 0x30
	}
	return b0
}

// stringColumnLength is the byte length of a CHAR/BINARY column from its
// metadata (real type and length, with the long-length bits folded into
// the type byte; see realColumnType).
func stringColumnLength(meta uint16) int {
	if meta < 256 {
		return int(meta)
	}
	b0, b1 := byte(meta>>8), byte(meta)
	if b0&0x30 != 0x30 {
		return int(b1) | int((b0&0x30)^0x30)<<4
	}
	return int(b1)
}

// typeName is the name of a MYSQL_TYPE_* code, used as the "$type" of a
// value with no canonical rule and in error messages. An unknown code is
// named by its number in decimal.
func typeName(typ byte) string {
	switch typ {
	case gomysql.MYSQL_TYPE_DECIMAL:
		return "olddecimal"
	case gomysql.MYSQL_TYPE_TINY:
		return "tinyint"
	case gomysql.MYSQL_TYPE_SHORT:
		return "smallint"
	case gomysql.MYSQL_TYPE_INT24:
		return "mediumint"
	case gomysql.MYSQL_TYPE_LONG:
		return "int"
	case gomysql.MYSQL_TYPE_LONGLONG:
		return "bigint"
	case gomysql.MYSQL_TYPE_FLOAT:
		return "float"
	case gomysql.MYSQL_TYPE_DOUBLE:
		return "double"
	case gomysql.MYSQL_TYPE_NULL:
		return "null"
	case gomysql.MYSQL_TYPE_TIMESTAMP, gomysql.MYSQL_TYPE_TIMESTAMP2:
		return "timestamp"
	case gomysql.MYSQL_TYPE_DATE, gomysql.MYSQL_TYPE_NEWDATE:
		return "date"
	case gomysql.MYSQL_TYPE_TIME, gomysql.MYSQL_TYPE_TIME2:
		return "time"
	case gomysql.MYSQL_TYPE_DATETIME, gomysql.MYSQL_TYPE_DATETIME2:
		return "datetime"
	case gomysql.MYSQL_TYPE_YEAR:
		return "year"
	case gomysql.MYSQL_TYPE_VARCHAR, gomysql.MYSQL_TYPE_VAR_STRING:
		return "varchar"
	case gomysql.MYSQL_TYPE_STRING:
		return "char"
	case gomysql.MYSQL_TYPE_BIT:
		return "bit"
	case gomysql.MYSQL_TYPE_VECTOR:
		return "vector"
	case gomysql.MYSQL_TYPE_JSON:
		return "json"
	case gomysql.MYSQL_TYPE_NEWDECIMAL:
		return "decimal"
	case gomysql.MYSQL_TYPE_ENUM:
		return "enum"
	case gomysql.MYSQL_TYPE_SET:
		return "set"
	case gomysql.MYSQL_TYPE_TINY_BLOB, gomysql.MYSQL_TYPE_MEDIUM_BLOB,
		gomysql.MYSQL_TYPE_LONG_BLOB, gomysql.MYSQL_TYPE_BLOB:
		return "blob"
	case gomysql.MYSQL_TYPE_GEOMETRY:
		return "geometry"
	}
	return strconv.Itoa(int(typ))
}
