package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
)

// Reading rows with SQL for the initial snapshot.
//
// The snapshot reads a table with plain SELECTs over the text protocol,
// but its row images must be byte for byte the ones the binlog path makes
// for the same row: AppendRow over the values go-mysql decodes, with the
// ColumnInfo of the table map. Three functions make that so:
//
//   - TableColumns builds from information_schema the ColumnInfo that
//     ColumnsFromTableMap builds from a full-metadata table map (same Type,
//     Meta, Unsigned, Binary, Enum and Set), and the primary key the table
//     map names.
//   - SelectList selects each column in a form that keeps everything the
//     binlog keeps: numbers for ENUM, SET and BIT, exact doubles for FLOAT,
//     raw bytes for strings, epoch seconds for TIMESTAMP.
//   - SQLRowValues turns one such row into the Go values go-mysql would
//     have decoded (same Go types, same text), so AppendRow and AppendKey
//     give the binlog path's bytes.
//
// The select list depends on no session setting: not time_zone (TIMESTAMP
// is read as UNIX_TIMESTAMP), not character_set_results (strings are read
// as binary), not sql_mode (CHAR padding is stripped again here). The
// snapshot connection may still set time_zone to '+00:00'; it changes
// nothing.

// Querier runs a query. *sql.DB, *sql.Conn and *sql.Tx satisfy it; the
// snapshot passes the connection that holds its consistent snapshot.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// schemaColumn is one row of information_schema.COLUMNS, as TableColumns
// reads it.
type schemaColumn struct {
	name        string
	dataType    string // DATA_TYPE, lower case: "int", "varchar", "inet6", ...
	columnType  string // COLUMN_TYPE: "int(10) unsigned zerofill", "enum('a','b')", ...
	octets      int64  // CHARACTER_OCTET_LENGTH, -1 when NULL
	precision   int64  // NUMERIC_PRECISION, -1 when NULL
	scale       int64  // NUMERIC_SCALE, -1 when NULL
	fsp         int64  // DATETIME_PRECISION, -1 when NULL
	charset     string // CHARACTER_SET_NAME, "" when NULL
	primaryPart bool   // COLUMN_KEY = 'PRI'
	nullable    bool   // IS_NULLABLE = 'YES'
}

// TableColumns reads the columns of schema.table from information_schema,
// in table order, as the ColumnInfo that ColumnsFromTableMap makes of the
// table's full-metadata table map: Type is the binlog type (ENUM and SET
// resolved, TIME2, DATETIME2 and TIMESTAMP2 for the temporal types), Meta
// the table map's metadata word (fsp, precision<<8|scale, the CHAR/BINARY
// byte length, the BLOB length bytes, ...), and Unsigned, Binary, Enum and
// Set as the table map gives them. pk holds the indexes of the primary key
// columns in key order, nil when the table has none. As in the table map,
// a table without a PRIMARY KEY takes its first UNIQUE key over NOT NULL
// whole columns as primary key.
//
// It fails with ErrUnknownTable when the table does not exist, and with
// ErrUnsupported for a column type whose binlog form it cannot reproduce
// (MySQL's binary JSON, MariaDB 11.7's VECTOR, ...). Tables are assumed
// to use the temporal formats of MariaDB 10.1.2 and later
// (mysql56_temporal_format=ON): a TIME, DATETIME or TIMESTAMP column
// created in the MariaDB 5.3 format would get the wrong binlog type.
//
// information_schema is not part of a transaction's consistent snapshot:
// it shows the table's definition at the time of the call, also inside the
// snapshot's transaction. Call it right before reading the table.
func TableColumns(ctx context.Context, q Querier, schema, table string) (cols []ColumnInfo, pk []int, err error) {
	name := schema + "." + table
	scs, err := readSchemaColumns(ctx, q, schema, table)
	if err != nil {
		return nil, nil, fmt.Errorf("table %s: read columns: %w", name, err)
	}
	if len(scs) == 0 {
		return nil, nil, fmt.Errorf("table %s: no columns in information_schema: %w", name, ErrUnknownTable)
	}
	cols = make([]ColumnInfo, len(scs))
	for i, sc := range scs {
		if cols[i], err = columnFromSchema(sc); err != nil {
			return nil, nil, fmt.Errorf("table %s: column %q: %w", name, sc.name, err)
		}
	}
	for i, sc := range scs {
		if len(cols[i].Enum)+len(cols[i].Set) > 0 && !asciiCompatibleUTF8(sc.charset) {
			if err := encodeMembers(ctx, q, &cols[i], sc.charset); err != nil {
				return nil, nil, fmt.Errorf("table %s: column %q: %w", name, sc.name, err)
			}
		}
	}
	if pk, err = primaryKey(ctx, q, schema, table, scs); err != nil {
		return nil, nil, fmt.Errorf("table %s: primary key: %w", name, err)
	}
	return cols, pk, nil
}

// readSchemaColumns reads the table's rows of information_schema.COLUMNS
// in ordinal order. Text is selected as binary, so it arrives as the
// server's UTF-8 whatever character_set_results says.
func readSchemaColumns(ctx context.Context, q Querier, schema, table string) ([]schemaColumn, error) {
	rows, err := q.QueryContext(ctx, `SELECT CAST(COLUMN_NAME AS BINARY), CAST(LOWER(DATA_TYPE) AS BINARY),
		CAST(COLUMN_TYPE AS BINARY), CHARACTER_OCTET_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE,
		DATETIME_PRECISION, CAST(LOWER(CHARACTER_SET_NAME) AS BINARY), COLUMN_KEY = 'PRI', IS_NULLABLE = 'YES'
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
		ORDER BY ORDINAL_POSITION`, schema, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []schemaColumn
	for rows.Next() {
		var sc schemaColumn
		var octets, precision, scale, fsp sql.NullInt64
		var charset sql.NullString
		if err := rows.Scan(&sc.name, &sc.dataType, &sc.columnType, &octets, &precision, &scale,
			&fsp, &charset, &sc.primaryPart, &sc.nullable); err != nil {
			return nil, err
		}
		sc.octets, sc.precision, sc.scale, sc.fsp = nullInt(octets), nullInt(precision), nullInt(scale), nullInt(fsp)
		sc.charset = charset.String
		out = append(out, sc)
	}
	return out, rows.Err()
}

func nullInt(n sql.NullInt64) int64 {
	if !n.Valid {
		return -1
	}
	return n.Int64
}

// columnFromSchema builds the ColumnInfo of one information_schema column
// as ColumnsFromTableMap builds it from MariaDB's table map. ENUM and SET
// members are left in UTF-8 (see encodeMembers).
func columnFromSchema(sc schemaColumn) (ColumnInfo, error) {
	c := ColumnInfo{Name: sc.name, Nullable: sc.nullable}
	lowerType := strings.ToLower(sc.columnType)
	unsigned := strings.Contains(lowerType, " unsigned") || strings.Contains(lowerType, " zerofill")
	need := func(what string, v int64, lo, hi int64) error {
		if v < lo || v > hi {
			return fmt.Errorf("information_schema gives %s %d for type %q: %w", what, v, sc.columnType, ErrUnsupported)
		}
		return nil
	}
	switch sc.dataType {
	case "tinyint", "smallint", "mediumint", "int", "bigint":
		c.Type = map[string]byte{
			"tinyint": gomysql.MYSQL_TYPE_TINY, "smallint": gomysql.MYSQL_TYPE_SHORT,
			"mediumint": gomysql.MYSQL_TYPE_INT24, "int": gomysql.MYSQL_TYPE_LONG,
			"bigint": gomysql.MYSQL_TYPE_LONGLONG,
		}[sc.dataType]
		c.Unsigned = unsigned
	case "decimal":
		if err := need("precision", sc.precision, 1, 65); err != nil {
			return c, err
		}
		if err := need("scale", sc.scale, 0, min(sc.precision, 38)); err != nil {
			return c, err
		}
		c.Type = gomysql.MYSQL_TYPE_NEWDECIMAL
		c.Meta = uint16(sc.precision)<<8 | uint16(sc.scale)
		c.Unsigned = unsigned
	case "float": // the table map's metadata is the storage size
		c.Type, c.Meta, c.Unsigned = gomysql.MYSQL_TYPE_FLOAT, 4, unsigned
	case "double":
		c.Type, c.Meta, c.Unsigned = gomysql.MYSQL_TYPE_DOUBLE, 8, unsigned
	case "bit": // metadata: whole bytes<<8 | remaining bits
		if err := need("bit width", sc.precision, 1, 64); err != nil {
			return c, err
		}
		c.Type = gomysql.MYSQL_TYPE_BIT
		c.Meta = uint16(sc.precision/8)<<8 | uint16(sc.precision%8)
	case "year": // the table map counts YEAR as an unsigned number
		c.Type, c.Unsigned = gomysql.MYSQL_TYPE_YEAR, true
	case "date":
		c.Type = gomysql.MYSQL_TYPE_DATE
	case "time", "datetime", "timestamp":
		if err := need("fractional seconds precision", sc.fsp, 0, 6); err != nil {
			return c, err
		}
		c.Type = map[string]byte{
			"time": gomysql.MYSQL_TYPE_TIME2, "datetime": gomysql.MYSQL_TYPE_DATETIME2,
			"timestamp": gomysql.MYSQL_TYPE_TIMESTAMP2,
		}[sc.dataType]
		c.Meta = uint16(sc.fsp)
	case "char", "binary":
		if err := need("byte length", sc.octets, 0, 1023); err != nil {
			return c, err
		}
		c.Type = gomysql.MYSQL_TYPE_STRING
		c.Meta = charMeta(int(sc.octets))
		c.Binary = sc.dataType == "binary" || sc.charset == "binary"
	case "inet6", "uuid", "inet4":
		// MariaDB's fixed-size binary types log their stored bytes as a
		// BINARY(16) or BINARY(4).
		c.Type = gomysql.MYSQL_TYPE_STRING
		c.Meta = charMeta(map[string]int{"inet6": 16, "uuid": 16, "inet4": 4}[sc.dataType])
		c.Binary = true
	case "varchar", "varbinary": // metadata: the maximum byte length
		if err := need("byte length", sc.octets, 0, 65535); err != nil {
			return c, err
		}
		c.Type = gomysql.MYSQL_TYPE_VARCHAR
		c.Meta = uint16(sc.octets)
		c.Binary = sc.dataType == "varbinary" || sc.charset == "binary"
	case "tinytext", "text", "mediumtext", "longtext", "tinyblob", "blob", "mediumblob", "longblob":
		// Every TEXT and BLOB is a BLOB in the binlog; the metadata is the
		// size of the length prefix.
		c.Type = gomysql.MYSQL_TYPE_BLOB
		c.Meta = map[string]uint16{"tiny": 1, "": 2, "medium": 3, "long": 4}[strings.TrimSuffix(strings.TrimSuffix(sc.dataType, "text"), "blob")]
		c.Binary = strings.HasSuffix(sc.dataType, "blob") || sc.charset == "binary"
	case "enum":
		members, err := parseMembers(sc.columnType, "enum")
		if err != nil {
			return c, err
		}
		if len(members) == 0 || len(members) > 65535 {
			return c, fmt.Errorf("ENUM with %d members: %w", len(members), ErrUnsupported)
		}
		c.Type = gomysql.MYSQL_TYPE_ENUM
		pack := uint16(1)
		if len(members) > 255 {
			pack = 2
		}
		c.Meta = uint16(gomysql.MYSQL_TYPE_ENUM)<<8 | pack
		c.Enum = members
	case "set":
		members, err := parseMembers(sc.columnType, "set")
		if err != nil {
			return c, err
		}
		if len(members) == 0 || len(members) > 64 {
			return c, fmt.Errorf("SET with %d members: %w", len(members), ErrUnsupported)
		}
		c.Type = gomysql.MYSQL_TYPE_SET
		pack := uint16(len(members)+7) / 8
		if pack > 4 {
			pack = 8
		}
		c.Meta = uint16(gomysql.MYSQL_TYPE_SET)<<8 | pack
		c.Set = members
	case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
		"multipolygon", "geometrycollection":
		c.Type, c.Meta = gomysql.MYSQL_TYPE_GEOMETRY, 4
	default:
		return c, fmt.Errorf("data type %q (%s): the snapshot cannot read it as the binlog logs it: %w",
			sc.dataType, sc.columnType, ErrUnsupported)
	}
	return c, nil
}

// charMeta is the table map metadata of a CHAR or BINARY column of n
// bytes: the real type MYSQL_TYPE_STRING in the high byte, with bits 8
// and 9 of n folded into it (inverted), and the low 8 bits of n.
func charMeta(n int) uint16 {
	b0 := gomysql.MYSQL_TYPE_STRING ^ byte((n&0x300)>>4)
	return uint16(b0)<<8 | uint16(n&0xff)
}

// parseMembers parses the member list of an ENUM or SET COLUMN_TYPE, such
// as enum('a','b\\c'). MariaDB puts each member in single quotes, writes a
// quote inside as two quotes, and escapes NUL, newline, carriage return
// and backslash with a backslash; the other SQL escapes are accepted too.
func parseMembers(columnType, kind string) ([]string, error) {
	bad := func(why string) error {
		return fmt.Errorf("cannot parse %s members from column type (%s): %w", kind, why, ErrUnsupported)
	}
	s := columnType
	if len(s) < len(kind)+2 || !strings.EqualFold(s[:len(kind)+1], kind+"(") {
		return nil, bad("no " + kind + "(")
	}
	s = s[len(kind)+1:]
	var members []string
	for {
		if s == "" || s[0] != '\'' {
			return nil, bad("member not quoted")
		}
		var m []byte
		i := 1
		for ; ; i++ {
			if i >= len(s) {
				return nil, bad("unterminated member")
			}
			b := s[i]
			if b == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					m = append(m, '\'')
					i++
					continue
				}
				break
			}
			if b == '\\' && i+1 < len(s) {
				i++
				switch s[i] {
				case '0':
					m = append(m, 0)
				case 'n':
					m = append(m, '\n')
				case 'r':
					m = append(m, '\r')
				case 't':
					m = append(m, '\t')
				case 'b':
					m = append(m, '\b')
				case 'Z':
					m = append(m, 0x1a)
				default:
					m = append(m, s[i])
				}
				continue
			}
			m = append(m, b)
		}
		members = append(members, string(m))
		s = s[i+1:]
		switch {
		case strings.HasPrefix(s, ","):
			s = s[1:]
		case strings.HasPrefix(s, ")"):
			return members, nil
		default:
			return nil, bad("no ',' or ')' after a member")
		}
	}
}

// asciiCompatibleUTF8 reports whether text in charset has the same bytes
// as its UTF-8 form, so that information_schema's UTF-8 member names are
// the bytes the table map sends.
func asciiCompatibleUTF8(charset string) bool {
	switch charset {
	case "utf8mb4", "utf8mb3", "utf8", "ascii", "":
		return true
	}
	return false
}

// encodeMembers converts the ENUM or SET member names of c from UTF-8
// (information_schema) to the column's character set (the table map sends
// them in it), letting the server do the conversion. Names are sent as hex
// literals, so the session's character sets play no part.
func encodeMembers(ctx context.Context, q Querier, c *ColumnInfo, charset string) error {
	for _, r := range charset {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return fmt.Errorf("character set name %q: %w", charset, ErrUnsupported)
		}
	}
	members := c.Enum
	if c.Type == gomysql.MYSQL_TYPE_SET {
		members = c.Set
	}
	var sel strings.Builder
	sel.WriteString("SELECT ")
	for i, m := range members {
		if i > 0 {
			sel.WriteString(", ")
		}
		fmt.Fprintf(&sel, "CAST(CONVERT(CONVERT(X'%x' USING utf8mb4) USING %s) AS BINARY)", m, charset)
	}
	rows, err := q.QueryContext(ctx, sel.String())
	if err != nil {
		return fmt.Errorf("convert member names to %s: %w", charset, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return fmt.Errorf("convert member names to %s: %w", charset, err)
		}
		return fmt.Errorf("convert member names to %s: no row", charset)
	}
	out := make([]sql.NullString, len(members))
	dest := make([]any, len(out))
	for i := range out {
		dest[i] = &out[i]
	}
	if err := rows.Scan(dest...); err != nil {
		return fmt.Errorf("convert member names to %s: %w", charset, err)
	}
	for i := range members {
		members[i] = out[i].String
	}
	return rows.Close()
}

// primaryKey returns the indexes of the columns of the key the table map
// calls primary, in key order: the PRIMARY KEY or, without one, the first
// UNIQUE key whose columns are all NOT NULL and not prefixes (MariaDB
// promotes it; information_schema marks its columns PRI). Among promoted
// candidates with the same columns the server's first listed wins.
func primaryKey(ctx context.Context, q Querier, schema, table string, scs []schemaColumn) ([]int, error) {
	pri := map[string]int{}
	for i, sc := range scs {
		if sc.primaryPart {
			pri[sc.name] = i
		}
	}
	if len(pri) == 0 {
		return nil, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT CAST(INDEX_NAME AS BINARY), SEQ_IN_INDEX, CAST(COLUMN_NAME AS BINARY), SUB_PART IS NULL
		FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0`, schema, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type part struct {
		seq int
		col string
	}
	var order []string // index names, as listed
	parts := map[string][]part{}
	whole := map[string]bool{}
	for rows.Next() {
		var index, col string
		var p part
		var full bool
		if err := rows.Scan(&index, &p.seq, &col, &full); err != nil {
			return nil, err
		}
		p.col = col
		if _, seen := parts[index]; !seen {
			order = append(order, index)
			whole[index] = true
		}
		parts[index] = append(parts[index], p)
		whole[index] = whole[index] && full
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	keyOf := func(index string) []int {
		ps := parts[index]
		slices.SortFunc(ps, func(a, b part) int { return a.seq - b.seq })
		idx := make([]int, 0, len(ps))
		for _, p := range ps {
			i, ok := pri[p.col]
			if !ok {
				return nil
			}
			idx = append(idx, i)
		}
		if len(idx) != len(pri) {
			return nil
		}
		return idx
	}
	if _, ok := parts["PRIMARY"]; ok {
		if idx := keyOf("PRIMARY"); idx != nil {
			return idx, nil
		}
	} else {
		for _, index := range order {
			if !whole[index] {
				continue
			}
			if idx := keyOf(index); idx != nil {
				return idx, nil
			}
		}
	}
	return nil, fmt.Errorf("no unique key over the %d columns information_schema marks PRI: %w", len(pri), ErrUnsupported)
}

// SelectList returns the SELECT expressions that read the columns of cols,
// in order, in the form SQLRowValues takes. Identifiers are quoted with
// backquotes. The expressions carry no aliases: an alias named like its
// column would capture ORDER BY and WHERE-free references to the column
// (ORDER BY `c` would sort by the binary cast of c, not by c's collation).
//
//   - integers, DECIMAL, DATE, TIME, DATETIME, VARBINARY, BLOB and spatial
//     columns: the column itself;
//   - FLOAT and DOUBLE: CAST(c AS DOUBLE), the shortest text of the exact
//     double (MariaDB prints FLOAT with 6 digits and DOUBLE(M,D) with D
//     decimals);
//   - BIT and ENUM: c+0, the number the binlog holds;
//   - SET: c|0, the bitmap as an unsigned number (c+0 is signed);
//   - YEAR: YEAR(c), which also gives YEAR(2) its century;
//   - TIMESTAMP: UNIX_TIMESTAMP(c), the stored instant, whatever the
//     session time zone;
//   - CHAR, VARCHAR and TEXT: CAST(c AS BINARY), the stored bytes, whatever
//     the session's character sets;
//   - BINARY(n): CAST(c AS BINARY(n)), which is how INET6, UUID and INET4
//     give their stored bytes.
func SelectList(cols []ColumnInfo) string {
	var b strings.Builder
	for i := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		c := &cols[i]
		name := "`" + strings.ReplaceAll(c.Name, "`", "``") + "`"
		switch c.Type {
		case gomysql.MYSQL_TYPE_FLOAT, gomysql.MYSQL_TYPE_DOUBLE:
			b.WriteString("CAST(" + name + " AS DOUBLE)")
		case gomysql.MYSQL_TYPE_BIT, gomysql.MYSQL_TYPE_ENUM:
			b.WriteString(name + "+0")
		case gomysql.MYSQL_TYPE_SET:
			b.WriteString(name + "|0") // s+0 is signed: the 64th member makes it negative
		case gomysql.MYSQL_TYPE_YEAR:
			b.WriteString("YEAR(" + name + ")")
		case gomysql.MYSQL_TYPE_TIMESTAMP, gomysql.MYSQL_TYPE_TIMESTAMP2:
			b.WriteString("UNIX_TIMESTAMP(" + name + ")")
		case gomysql.MYSQL_TYPE_STRING:
			if c.Binary {
				b.WriteString("CAST(" + name + " AS BINARY(" + strconv.Itoa(stringColumnLength(c.Meta)) + "))")
			} else {
				b.WriteString("CAST(" + name + " AS BINARY)")
			}
		case gomysql.MYSQL_TYPE_VARCHAR, gomysql.MYSQL_TYPE_VAR_STRING, gomysql.MYSQL_TYPE_BLOB,
			gomysql.MYSQL_TYPE_TINY_BLOB, gomysql.MYSQL_TYPE_MEDIUM_BLOB, gomysql.MYSQL_TYPE_LONG_BLOB:
			if c.Binary {
				b.WriteString(name)
			} else {
				b.WriteString("CAST(" + name + " AS BINARY)")
			}
		default:
			b.WriteString(name)
		}
	}
	return b.String()
}

// SQLRowValues converts one row read with SelectList(cols), scanned into
// sql.RawBytes (nil for NULL), into the values go-mysql's binlog decoder
// gives for the same row (see the Go type table in
// docs/formats/mysql-row-json.md), so that AppendRow(nil, cols, values)
// and AppendKey are the binlog path's bytes. The values do not share
// memory with raw. A value that does not parse fails with ErrRowValue,
// naming the column but not the value.
func SQLRowValues(cols []ColumnInfo, raw []sql.RawBytes) ([]any, error) {
	if len(raw) != len(cols) {
		return nil, fmt.Errorf("snapshot row: %d columns but %d values: %w", len(cols), len(raw), ErrRowShape)
	}
	out := make([]any, len(cols))
	for i := range cols {
		if raw[i] == nil {
			continue
		}
		v, err := snapshotValue(&cols[i], raw[i])
		if err != nil {
			return nil, fmt.Errorf("snapshot row: column %q (%s): %w", cols[i].Name, typeName(cols[i].Type), err)
		}
		out[i] = v
	}
	return out, nil
}

// snapshotValue converts the text of one non-NULL column, as SelectList
// selects it, into go-mysql's value.
func snapshotValue(c *ColumnInfo, raw []byte) (any, error) {
	s := string(raw)
	switch c.Type {
	case gomysql.MYSQL_TYPE_TINY:
		return sqlInteger(s, 8, c.Unsigned)
	case gomysql.MYSQL_TYPE_SHORT:
		return sqlInteger(s, 16, c.Unsigned)
	case gomysql.MYSQL_TYPE_INT24:
		return sqlInteger(s, 24, c.Unsigned)
	case gomysql.MYSQL_TYPE_LONG:
		return sqlInteger(s, 32, c.Unsigned)
	case gomysql.MYSQL_TYPE_LONGLONG:
		return sqlInteger(s, 64, c.Unsigned)
	case gomysql.MYSQL_TYPE_YEAR:
		// go-mysql gives 0 for the zero year and the year otherwise. YEAR()
		// gives 1900 for a YEAR(2) column's zero byte, a year no YEAR
		// column can hold.
		y, err := strconv.Atoi(s)
		if err != nil || y < 0 || y > 2155 {
			return nil, fmt.Errorf("malformed YEAR text: %w", ErrRowValue)
		}
		if y == 1900 {
			y = 0
		}
		return y, nil
	case gomysql.MYSQL_TYPE_NEWDECIMAL:
		return sqlDecimal(s)
	case gomysql.MYSQL_TYPE_FLOAT:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || float64(float32(f)) != f {
			return nil, fmt.Errorf("FLOAT text that is not an exact float32: %w", ErrRowValue)
		}
		return float32(f), nil
	case gomysql.MYSQL_TYPE_DOUBLE:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("malformed DOUBLE text: %w", ErrRowValue)
		}
		return f, nil
	case gomysql.MYSQL_TYPE_BIT, gomysql.MYSQL_TYPE_ENUM, gomysql.MYSQL_TYPE_SET:
		// go-mysql gives all three as int64; BIT(64) and the 64th SET member
		// wrap to negative.
		u, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("malformed number text: %w", ErrRowValue)
			}
			return n, nil
		}
		return int64(u), nil
	case gomysql.MYSQL_TYPE_STRING:
		// The binlog logs CHAR without its trailing spaces and BINARY
		// without its trailing zero bytes. The select list gives CHAR
		// stripped already, unless sql_mode has PAD_CHAR_TO_FULL_LENGTH.
		pad := byte(' ')
		if c.Binary {
			pad = 0
		}
		end := len(raw)
		for end > 0 && raw[end-1] == pad {
			end--
		}
		return string(raw[:end]), nil
	case gomysql.MYSQL_TYPE_VARCHAR, gomysql.MYSQL_TYPE_VAR_STRING:
		return s, nil
	case gomysql.MYSQL_TYPE_BLOB, gomysql.MYSQL_TYPE_TINY_BLOB, gomysql.MYSQL_TYPE_MEDIUM_BLOB,
		gomysql.MYSQL_TYPE_LONG_BLOB, gomysql.MYSQL_TYPE_GEOMETRY:
		return append([]byte{}, raw...), nil
	case gomysql.MYSQL_TYPE_DATE, gomysql.MYSQL_TYPE_NEWDATE, gomysql.MYSQL_TYPE_DATETIME,
		gomysql.MYSQL_TYPE_DATETIME2:
		// The server's text is go-mysql's: fsp digits, zero dates as is.
		return s, nil
	case gomysql.MYSQL_TYPE_TIME, gomysql.MYSQL_TYPE_TIME2:
		return sqlTime(s)
	case gomysql.MYSQL_TYPE_TIMESTAMP:
		return sqlTimestamp(s, 0)
	case gomysql.MYSQL_TYPE_TIMESTAMP2:
		fsp, err := columnFsp(c.Meta)
		if err != nil {
			return nil, err
		}
		return sqlTimestamp(s, fsp)
	}
	return nil, fmt.Errorf("type not read by the snapshot: %w", ErrUnsupported)
}

// sqlInteger parses an integer of a width-bit column into go-mysql's Go
// type for it: int8, int16, int32 (MEDIUMINT and INT) or int64, or the
// unsigned types for an UNSIGNED column.
func sqlInteger(s string, width int, unsigned bool) (any, error) {
	bad := fmt.Errorf("malformed or out of range integer text for %d bits: %w", width, ErrRowValue)
	if unsigned {
		u, err := strconv.ParseUint(s, 10, width)
		if err != nil {
			return nil, bad
		}
		switch width {
		case 8:
			return uint8(u), nil
		case 16:
			return uint16(u), nil
		case 24, 32:
			return uint32(u), nil
		}
		return u, nil
	}
	n, err := strconv.ParseInt(s, 10, width)
	if err != nil {
		return nil, bad
	}
	switch width {
	case 8:
		return int8(n), nil
	case 16:
		return int16(n), nil
	case 24, 32:
		return int32(n), nil
	}
	return n, nil
}

// sqlDecimal gives a DECIMAL's text as go-mysql writes it: the server's
// digits without the leading zeros ZEROFILL adds ("000012.50" is
// "12.50").
func sqlDecimal(s string) (string, error) {
	sign, intPart, frac, ok := splitDecimal(s)
	if !ok {
		return "", fmt.Errorf("malformed DECIMAL text: %w", ErrRowValue)
	}
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	if frac != "" {
		return sign + intPart + "." + frac, nil
	}
	return sign + intPart, nil
}

// sqlTime gives a TIME's text as go-mysql writes it: without the fraction
// when it is zero, and "00:00:00" for zero whatever its sign.
func sqlTime(s string) (string, error) {
	whole, frac, ok := splitFraction(s)
	if !ok {
		return "", fmt.Errorf("malformed TIME text: %w", ErrRowValue)
	}
	if strings.Trim(frac, "0") != "" {
		return s, nil
	}
	if whole == "-00:00:00" {
		whole = "00:00:00"
	}
	return whole, nil
}

// sqlTimestamp gives a TIMESTAMP, read as UNIX_TIMESTAMP(c) (seconds, a
// point and fsp digits), as go-mysql writes it with
// TimestampStringLocation=time.UTC: the UTC time with exactly fsp digits,
// and 0 (the zero timestamp) as "0000-00-00 00:00:00" and fsp zeros.
func sqlTimestamp(s string, fsp int) (string, error) {
	whole, frac, ok := splitFraction(s)
	sec, err := strconv.ParseInt(whole, 10, 64)
	if !ok || err != nil || sec < 0 || len(frac) > 6 {
		return "", fmt.Errorf("malformed UNIX_TIMESTAMP text: %w", ErrRowValue)
	}
	usec := 0
	if frac != "" {
		usec, _ = strconv.Atoi(frac + strings.Repeat("0", 6-len(frac)))
	}
	layout := "2006-01-02 15:04:05"
	if fsp > 0 {
		layout += "." + strings.Repeat("0", fsp)
	}
	if sec == 0 {
		if fsp == 0 {
			return "0000-00-00 00:00:00", nil
		}
		return "0000-00-00 00:00:00." + fmt.Sprintf("%06d", usec)[:fsp], nil
	}
	return time.Unix(sec, int64(usec)*1000).UTC().Format(layout), nil
}
