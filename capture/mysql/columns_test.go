package mysql

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	_ "github.com/go-sql-driver/mysql"

	"github.com/cairnlog/cairn/fixtures"
	"github.com/cairnlog/cairn/schema"
)

// syntheticTableMap is the table map of
//
//	CREATE TABLE db.tbl (id INT, u TINYINT UNSIGNED, c CHAR(255), b BINARY(4),
//	  e ENUM('a','b'), s SET('x','y','z'), v VARCHAR(10), bl BLOB,
//	  d DATETIME(3), y YEAR) CHARSET utf8mb4
//
// with full row metadata, as go-mysql decodes it.
func syntheticTableMap() *replication.TableMapEvent {
	names := []string{"id", "u", "c", "b", "e", "s", "v", "bl", "d", "y"}
	tm := &replication.TableMapEvent{
		Schema:      []byte("db"),
		Table:       []byte("tbl"),
		ColumnCount: uint64(len(names)),
		ColumnType: []byte{
			gomysql.MYSQL_TYPE_LONG, gomysql.MYSQL_TYPE_TINY, gomysql.MYSQL_TYPE_STRING,
			gomysql.MYSQL_TYPE_STRING, gomysql.MYSQL_TYPE_STRING, gomysql.MYSQL_TYPE_STRING,
			gomysql.MYSQL_TYPE_VARCHAR, gomysql.MYSQL_TYPE_BLOB, gomysql.MYSQL_TYPE_DATETIME2,
			gomysql.MYSQL_TYPE_YEAR,
		},
		ColumnMeta:       []uint16{0, 0, 0xcefc, 0xfe04, 0xf701, 0xf801, 40, 2, 3, 0},
		SignednessBitmap: []byte{0x60}, // id signed, u and y unsigned
		ColumnCharset:    []uint64{45, 63, 45, 63},
		EnumStrValue:     [][][]byte{{[]byte("a"), []byte("b")}},
		SetStrValue:      [][][]byte{{[]byte("x"), []byte("y"), []byte("z")}},
	}
	for _, n := range names {
		tm.ColumnName = append(tm.ColumnName, []byte(n))
	}
	return tm
}

func TestColumnsFromTableMap(t *testing.T) {
	cols, err := ColumnsFromTableMap(syntheticTableMap())
	if err != nil {
		t.Fatal(err)
	}
	want := []ColumnInfo{
		{Name: "id", Type: gomysql.MYSQL_TYPE_LONG},
		{Name: "u", Type: gomysql.MYSQL_TYPE_TINY, Unsigned: true},
		{Name: "c", Type: gomysql.MYSQL_TYPE_STRING, Meta: 0xcefc},
		{Name: "b", Type: gomysql.MYSQL_TYPE_STRING, Meta: 0xfe04, Binary: true},
		{Name: "e", Type: gomysql.MYSQL_TYPE_ENUM, Meta: 0xf701, Enum: []string{"a", "b"}},
		{Name: "s", Type: gomysql.MYSQL_TYPE_SET, Meta: 0xf801, Set: []string{"x", "y", "z"}},
		{Name: "v", Type: gomysql.MYSQL_TYPE_VARCHAR, Meta: 40},
		{Name: "bl", Type: gomysql.MYSQL_TYPE_BLOB, Meta: 2, Binary: true},
		{Name: "d", Type: gomysql.MYSQL_TYPE_DATETIME2, Meta: 3},
		{Name: "y", Type: gomysql.MYSQL_TYPE_YEAR, Unsigned: true},
	}
	if !reflect.DeepEqual(cols, want) {
		t.Errorf("ColumnsFromTableMap =\n%+v\nwant\n%+v", cols, want)
	}
}

func TestColumnsFromTableMapErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*replication.TableMapEvent)
		target error
		says   string
	}{
		{"no column names", func(tm *replication.TableMapEvent) { tm.ColumnName = nil }, ErrRowMetadata, "binlog_row_metadata=FULL"},
		{"no signedness", func(tm *replication.TableMapEvent) { tm.SignednessBitmap = nil }, ErrRowMetadata, `"id": table map has no signedness`},
		{"no charsets", func(tm *replication.TableMapEvent) { tm.ColumnCharset = nil }, ErrRowMetadata, `"c": table map has no character set`},
		{"no enum members", func(tm *replication.TableMapEvent) { tm.EnumStrValue = nil }, ErrRowMetadata, `"e": table map has no ENUM members`},
		{"no set members", func(tm *replication.TableMapEvent) { tm.SetStrValue = nil }, ErrRowMetadata, `"s": table map has no SET members`},
		{"types short", func(tm *replication.TableMapEvent) { tm.ColumnType = tm.ColumnType[:3] }, ErrRowShape, "columns"},
	} {
		tm := syntheticTableMap()
		tc.change(tm)
		_, err := ColumnsFromTableMap(tm)
		if !errors.Is(err, tc.target) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.target)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "db.tbl") || !strings.Contains(msg, tc.says) {
			t.Errorf("%s: error %q should name db.tbl and say %q", tc.name, msg, tc.says)
		}
	}
}

func TestRealColumnType(t *testing.T) {
	for _, tc := range []struct {
		typ    byte
		meta   uint16
		want   byte
		length int
	}{
		{gomysql.MYSQL_TYPE_STRING, 0xfe14, gomysql.MYSQL_TYPE_STRING, 20},
		{gomysql.MYSQL_TYPE_STRING, 0xcefc, gomysql.MYSQL_TYPE_STRING, 1020}, // CHAR(255) utf8mb4
		{gomysql.MYSQL_TYPE_STRING, 0xee2c, gomysql.MYSQL_TYPE_STRING, 300},
		{gomysql.MYSQL_TYPE_STRING, 0xf701, gomysql.MYSQL_TYPE_ENUM, 1},
		{gomysql.MYSQL_TYPE_STRING, 0xf802, gomysql.MYSQL_TYPE_SET, 2},
		{gomysql.MYSQL_TYPE_STRING, 5, gomysql.MYSQL_TYPE_STRING, 5},
		{gomysql.MYSQL_TYPE_VARCHAR, 0xf701, gomysql.MYSQL_TYPE_VARCHAR, 0},
	} {
		if got := realColumnType(tc.typ, tc.meta); got != tc.want {
			t.Errorf("realColumnType(%d, %#x) = %d, want %d", tc.typ, tc.meta, got, tc.want)
		}
		if tc.length > 0 {
			if got := stringColumnLength(tc.meta); got != tc.length {
				t.Errorf("stringColumnLength(%#x) = %d, want %d", tc.meta, got, tc.length)
			}
		}
	}
}

// Server comparison kinds: how a column's canonical value is compared
// with the server's text.
const (
	asNumber  = iota // a JSON number with exactly the server's digits
	asString         // a JSON string equal to the server's text
	asFloat32        // a JSON number that reads back to the same float32
	asFloat64        // a JSON number that reads back to the same float64
	asJSONDoc        // a JSON string holding the same JSON document as the server's text
)

// serverColumn is one column of the round-trip table: its DDL, the SQL
// that renders the server's value as the canonical text, and what
// ColumnsFromTableMap must make of it.
type serverColumn struct {
	name, ddl, sel   string
	kind             int
	typ              byte
	unsigned, binary bool
}

// serverColumns are the round-trip table's columns on a server of flavor.
func serverColumns(flavor string) []serverColumn {
	cols := serverColumnsMariaDB()
	if flavor == flavorMySQL {
		for i := range cols {
			if cols[i].name == "j" { // MySQL's binary JSON; go-mysql renders its own text
				cols[i].kind, cols[i].typ = asJSONDoc, gomysql.MYSQL_TYPE_JSON
			}
		}
	}
	return cols
}

func serverColumnsMariaDB() []serverColumn {
	cast := "CAST(%s AS CHAR)"
	hexed := `CONCAT('\\x', LOWER(HEX(%s)))`
	return []serverColumn{
		{"id", "INT PRIMARY KEY", cast, asNumber, gomysql.MYSQL_TYPE_LONG, false, false},
		{"ti", "TINYINT", cast, asNumber, gomysql.MYSQL_TYPE_TINY, false, false},
		{"tiu", "TINYINT UNSIGNED", cast, asNumber, gomysql.MYSQL_TYPE_TINY, true, false},
		{"si", "SMALLINT", cast, asNumber, gomysql.MYSQL_TYPE_SHORT, false, false},
		{"siu", "SMALLINT UNSIGNED", cast, asNumber, gomysql.MYSQL_TYPE_SHORT, true, false},
		{"mi", "MEDIUMINT", cast, asNumber, gomysql.MYSQL_TYPE_INT24, false, false},
		{"miu", "MEDIUMINT UNSIGNED", cast, asNumber, gomysql.MYSQL_TYPE_INT24, true, false},
		{"i", "INT", cast, asNumber, gomysql.MYSQL_TYPE_LONG, false, false},
		{"iu", "INT UNSIGNED", cast, asNumber, gomysql.MYSQL_TYPE_LONG, true, false},
		{"bi", "BIGINT", cast, asNumber, gomysql.MYSQL_TYPE_LONGLONG, false, false},
		{"biu", "BIGINT UNSIGNED", cast, asNumber, gomysql.MYSQL_TYPE_LONGLONG, true, false},
		{"d12", "DECIMAL(12,2)", cast, asString, gomysql.MYSQL_TYPE_NEWDECIMAL, false, false},
		{"d30", "DECIMAL(30,10)", cast, asString, gomysql.MYSQL_TYPE_NEWDECIMAL, false, false},
		{"f", "FLOAT", "CAST(CAST(%s AS DOUBLE) AS CHAR)", asFloat32, gomysql.MYSQL_TYPE_FLOAT, false, false},
		{"dbl", "DOUBLE", cast, asFloat64, gomysql.MYSQL_TYPE_DOUBLE, false, false},
		{"b5", "BIT(5)", "CAST(%s+0 AS CHAR)", asNumber, gomysql.MYSQL_TYPE_BIT, false, false},
		{"b64", "BIT(64)", "CAST(%s+0 AS CHAR)", asNumber, gomysql.MYSQL_TYPE_BIT, false, false},
		{"e", `ENUM('a','b "q"','ü')`, cast, asString, gomysql.MYSQL_TYPE_ENUM, false, false},
		{"s", "SET('x','y','z')", cast, asString, gomysql.MYSQL_TYPE_SET, false, false},
		{"c5", "CHAR(5)", cast, asString, gomysql.MYSQL_TYPE_STRING, false, false},
		{"c255", "CHAR(255)", cast, asString, gomysql.MYSQL_TYPE_STRING, false, false},
		{"vc", "VARCHAR(100)", cast, asString, gomysql.MYSQL_TYPE_VARCHAR, false, false},
		{"tx", "TEXT", cast, asString, gomysql.MYSQL_TYPE_BLOB, false, false},
		{"bn", "BINARY(4)", hexed, asString, gomysql.MYSQL_TYPE_STRING, false, true},
		{"vb", "VARBINARY(16)", hexed, asString, gomysql.MYSQL_TYPE_VARCHAR, false, true},
		{"bl", "BLOB", hexed, asString, gomysql.MYSQL_TYPE_BLOB, false, true},
		{"mb", "MEDIUMBLOB", hexed, asString, gomysql.MYSQL_TYPE_BLOB, false, true},
		{"dt", "DATE", cast, asString, gomysql.MYSQL_TYPE_DATE, false, false},
		{"t0", "TIME(0)", cast, asString, gomysql.MYSQL_TYPE_TIME2, false, false},
		{"t3", "TIME(3)", cast, asString, gomysql.MYSQL_TYPE_TIME2, false, false},
		{"t6", "TIME(6)", cast, asString, gomysql.MYSQL_TYPE_TIME2, false, false},
		{"dt0", "DATETIME", cast, asString, gomysql.MYSQL_TYPE_DATETIME2, false, false},
		{"dt3", "DATETIME(3)", cast, asString, gomysql.MYSQL_TYPE_DATETIME2, false, false},
		{"ts0", "TIMESTAMP NULL", cast, asString, gomysql.MYSQL_TYPE_TIMESTAMP2, false, false},
		{"ts6", "TIMESTAMP(6) NULL", cast, asString, gomysql.MYSQL_TYPE_TIMESTAMP2, false, false},
		{"y", "YEAR", "CAST(%s+0 AS CHAR)", asNumber, gomysql.MYSQL_TYPE_YEAR, true, false},
		{"j", "JSON", cast, asString, gomysql.MYSQL_TYPE_BLOB, false, false}, // MariaDB: LONGTEXT
		{"g", "GEOMETRY", hexed, asString, gomysql.MYSQL_TYPE_GEOMETRY, false, false},
		{"pt", "POINT", hexed, asString, gomysql.MYSQL_TYPE_GEOMETRY, false, false},
	}
}

// sqlValue is one inserted value: an SQL expression and its arguments.
type sqlValue struct {
	expr string
	args []any
}

func lit(expr string) sqlValue { return sqlValue{expr: expr} }
func arg(v any) sqlValue       { return sqlValue{expr: "?", args: []any{v}} }

// serverRow is one inserted row; loose rows are inserted with
// sql_mode=” (zero dates, invalid ENUM members).
type serverRow struct {
	loose  bool
	values map[string]sqlValue
}

// serverRows are the rows inserted into the round-trip table on a server
// of flavor.
func serverRows(flavor string) []serverRow {
	rows := serverRowsMariaDB()
	if flavor == flavorMySQL {
		// MySQL's TIME stops at 838:59:59.000000; MariaDB's at .999999.
		rows[1].values["t3"], rows[1].values["t6"] = lit("'838:59:58.999'"), lit("'838:59:58.999999'")
	}
	return rows
}

func serverRowsMariaDB() []serverRow {
	return []serverRow{
		{values: map[string]sqlValue{ // minimum values
			"id": lit("1"), "ti": lit("-128"), "tiu": lit("0"), "si": lit("-32768"), "siu": lit("0"),
			"mi": lit("-8388608"), "miu": lit("0"), "i": lit("-2147483648"), "iu": lit("0"),
			"bi": lit("-9223372036854775808"), "biu": lit("0"),
			"d12": lit("-9999999999.99"), "d30": lit("-99999999999999999999.9999999999"),
			"f": lit("-3.40282e38"), "dbl": lit("-1.7976931348623157e308"), "b5": lit("b'0'"), "b64": lit("0"),
			"e": arg("a"), "s": arg(""), "c5": arg(""), "c255": arg(""), "vc": arg(""), "tx": arg(""),
			"bn": arg([]byte{}), "vb": arg([]byte{}), "bl": arg([]byte{}), "mb": arg([]byte{}),
			"dt": lit("'1000-01-01'"), "t0": lit("'-838:59:59'"), "t3": lit("'-838:59:59.000'"), "t6": lit("'-838:59:59.000000'"),
			"dt0": lit("'1000-01-01 00:00:00'"), "dt3": lit("'1000-01-01 00:00:00.000'"),
			"ts0": lit("'1970-01-01 00:00:01'"), "ts6": lit("'1970-01-01 00:00:01.000000'"),
			"y": lit("1901"), "j": arg("[]"), "g": lit("POINT(0, 0)"), "pt": lit("POINT(-0.5, 1e300)"),
		}},
		{values: map[string]sqlValue{ // maximum values
			"id": lit("2"), "ti": lit("127"), "tiu": lit("255"), "si": lit("32767"), "siu": lit("65535"),
			"mi": lit("8388607"), "miu": lit("16777215"), "i": lit("2147483647"), "iu": lit("4294967295"),
			"bi": lit("9223372036854775807"), "biu": lit("18446744073709551615"),
			"d12": lit("9999999999.99"), "d30": lit("99999999999999999999.9999999999"),
			"f": lit("3.40282e38"), "dbl": lit("1.7976931348623157e308"), "b5": lit("b'11111'"),
			"b64": lit("b'1111111111111111111111111111111111111111111111111111111111111111'"),
			"e":   arg("ü"), "s": arg("x,y,z"), "c5": arg("abcde"), "c255": arg(strings.Repeat("🙂", 255)),
			"vc": arg(strings.Repeat("v", 100)), "tx": arg(strings.Repeat("long text ", 1000)),
			"bn": arg([]byte{0xde, 0xad, 0xbe, 0xef}), "vb": arg([]byte("0123456789abcdef")),
			"bl": arg([]byte{0xff, 0xfe, 0, 1}), "mb": arg(make([]byte, 70000)),
			"dt": lit("'9999-12-31'"), "t0": lit("'838:59:59'"), "t3": lit("'838:59:59.999'"), "t6": lit("'838:59:59.999999'"),
			"dt0": lit("'9999-12-31 23:59:59'"), "dt3": lit("'9999-12-31 23:59:59.999'"),
			"ts0": lit("'2038-01-19 03:14:07'"), "ts6": lit("'2038-01-19 03:14:07.999999'"),
			"y": lit("2155"), "j": arg(`{"k": "v\"q", "n": [1, 2.50, null, true, -0.0], "u": "\u00fc\u2028"}`),
			"g": lit("ST_GeomFromText('LINESTRING(0 0, 1 1, 2.5 -3)')"), "pt": lit("ST_PointFromText('POINT(1 2)', 4326)"),
		}},
		{values: map[string]sqlValue{ // ordinary and awkward values
			"id": lit("3"), "ti": lit("-1"), "tiu": lit("128"), "si": lit("-1"), "siu": lit("32768"),
			"mi": lit("-1"), "miu": lit("8388608"), "i": lit("-1"), "iu": lit("2147483648"),
			"bi": lit("-1"), "biu": lit("9223372036854775808"),
			"d12": lit("12.5"), "d30": lit("-0.0000000001"), "f": lit("0.1"), "dbl": lit("0.1"),
			"b5": lit("b'101'"), "b64": lit("b'1000000000000000000000000000000000000000000000000000000000000001'"),
			"e": arg(`b "q"`), "s": arg("z,x"), "c5": arg("ab  "), "c255": arg("é"),
			"vc": arg("tab\tnl\ncr\rquote\"bs\\ ctl\x01\x1f del\x7f u2028\u2028 <&>"),
			"tx": arg("é🙂\u2029 'single' \x00 nul"),
			"bn": arg([]byte("ab")), "vb": arg([]byte("v\x00")), "bl": arg([]byte("b\x00\x00")), "mb": arg([]byte{0}),
			"dt": lit("'2024-02-29'"), "t0": lit("'-00:00:01'"), "t3": lit("'-00:00:00.5'"), "t6": lit("'-00:00:00.000001'"),
			"dt0": lit("'2024-02-29 13:14:15'"), "dt3": lit("'2024-02-29 13:14:15.1'"),
			"ts0": lit("'2000-01-01 00:00:00'"), "ts6": lit("'2000-01-01 00:00:00.5'"),
			"y": lit("2024"), "j": arg(`"str"`), "g": lit("POINT(1, 2)"), "pt": lit("POINT(-1.5, 2.25)"),
		}},
		{values: map[string]sqlValue{ // exponent floats, round fractions
			"id": lit("4"), "f": lit("1.17549e-38"), "dbl": lit("5e-324"), "d12": lit("0"), "d30": lit("1.5"),
			"t0": lit("'00:00:00'"), "t3": lit("'12:00:00'"), "t6": lit("'00:00:00'"),
			"dt0": lit("'2024-02-29 00:00:00'"), "dt3": lit("'2024-02-29 13:14:15'"),
			"ts0": lit("'2024-02-29 23:59:59'"), "ts6": lit("'2024-02-29 23:59:59'"),
			"vc": arg(""), "e": arg("a"), "s": arg("y"),
		}},
		{values: map[string]sqlValue{ // everything NULL
			"id": lit("5"),
		}},
		{loose: true, values: map[string]sqlValue{ // zero dates and an invalid ENUM member
			"id": lit("6"), "dt": lit("'0000-00-00'"), "dt0": lit("'0000-00-00 00:00:00'"),
			"dt3": lit("'0000-00-00 00:00:00.000'"), "ts0": lit("'0000-00-00 00:00:00'"),
			"ts6": lit("'0000-00-00 00:00:00'"), "y": lit("0"), "e": arg("nope"),
			"f": lit("1e6"), "dbl": lit("1e21"),
		}},
	}
}

// capturedRow is one row of the binlog encoded by AppendRow and
// AppendKey, with the Go types go-mysql decoded.
type capturedRow struct {
	row, key []byte
	goTypes  []string
}

func TestTypesAgainstServer(t *testing.T) {
	my := fixtures.SharedMariaDB(t)
	typesAgainstServer(t, binlogServer{flavorMariaDB, my.DSN(), my.Host(), my.Port(), my.User(), my.Password(), my.Database()})
}

// TestTypesAgainstMySQL is the same round trip on MySQL, whose JSON
// columns are binary JSON in the binlog.
func TestTypesAgainstMySQL(t *testing.T) {
	my := fixtures.SharedMySQL(t)
	typesAgainstServer(t, binlogServer{flavorMySQL, my.DSN(), my.Host(), my.Port(), my.User(), "", my.Database()})
}

// binlogServer is what the round trip needs of a MariaDB or MySQL fixture.
type binlogServer struct {
	flavor, dsn    string
	host           string
	port           int
	user, password string
	database       string
}

func typesAgainstServer(t *testing.T, my binlogServer) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db, err := sql.Open("mysql", my.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx) // one session: time zone and sql_mode stick
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%.60s…: %v", q, err)
		}
	}
	exec("SET time_zone = '+00:00'")
	posVar := "@@gtid_binlog_pos"
	if my.flavor == flavorMySQL {
		posVar = "@@gtid_executed"
	}
	var start string
	if err := conn.QueryRowContext(ctx, "SELECT "+posVar).Scan(&start); err != nil {
		t.Fatal(err)
	}

	cols := serverColumns(my.flavor)
	var ddl []string
	for _, c := range cols {
		ddl = append(ddl, c.name+" "+c.ddl)
	}
	exec("CREATE TABLE rj_types (" + strings.Join(ddl, ", ") + ") CHARSET utf8mb4")
	rows := serverRows(my.flavor)
	for _, r := range rows {
		var names, exprs []string
		var args []any
		for _, c := range cols {
			if v, ok := r.values[c.name]; ok {
				names, exprs, args = append(names, c.name), append(exprs, v.expr), append(args, v.args...)
			}
		}
		if r.loose {
			exec("SET SESSION sql_mode = ''")
		}
		exec("INSERT INTO rj_types ("+strings.Join(names, ",")+") VALUES ("+strings.Join(exprs, ",")+")", args...)
		if r.loose {
			exec("SET SESSION sql_mode = DEFAULT")
		}
	}

	captured := readInsertedRows(ctx, t, my, start, "rj_types", cols, len(rows))
	want := serverTexts(ctx, t, conn, cols)
	if len(want) != len(rows) {
		t.Fatalf("server has %d rows, want %d", len(want), len(rows))
	}
	for _, got := range captured {
		id, values := decodeCanonicalRow(t, got.row, cols)
		server, ok := want[id]
		if !ok {
			t.Errorf("captured row id %s is not on the server", id)
			continue
		}
		for i, c := range cols {
			if err := compareWithServer(c.kind, values[i], server[i]); err != nil {
				t.Errorf("row %s column %s (%s, go-mysql %s): %v", id, c.name, c.ddl, got.goTypes[i], err)
			}
		}
		if wantKey := `{"id":` + id + `}`; string(got.key) != wantKey {
			t.Errorf("row %s: key %s, want %s", id, got.key, wantKey)
		}
		delete(want, id)
	}
	for id := range want {
		t.Errorf("row %s was not captured", id)
	}
	if testing.Verbose() && len(captured) > 2 {
		for i, c := range cols {
			t.Logf("%-5s %-20s go-mysql %s", c.name, c.ddl, captured[2].goTypes[i])
		}
	}
}

// readInsertedRows reads the binlog from GTID position start until it has
// seen want inserted rows of table in the test's database, and encodes
// them. It also checks ColumnsFromTableMap against the expected columns.
func readInsertedRows(ctx context.Context, t *testing.T, my binlogServer, start, table string, expect []serverColumn, want int) []capturedRow {
	t.Helper()
	st, err := parseGTIDState(my.flavor, start)
	if err != nil {
		t.Fatalf("parse GTID position %q: %v", start, err)
	}
	gset, err := st.syncSet()
	if err != nil {
		t.Fatal(err)
	}
	syncer := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID:                1<<29 + rand.Uint32N(1<<28), // unique among the tests' replicas
		Flavor:                  my.flavor,
		Host:                    my.host,
		Port:                    uint16(my.port),
		User:                    my.user,
		Password:                my.password,
		ParseTime:               true,
		UseDecimal:              false,
		RenderJSONAsMySQLText:   true,
		TimestampStringLocation: time.UTC,
		Logger:                  slog.New(slog.DiscardHandler),
	})
	defer syncer.Close()
	streamer, err := syncer.StartSyncGTID(gset)
	if err != nil {
		t.Fatalf("start binlog sync at %q: %v", start, err)
	}
	var out []capturedRow
	checked := false
	for len(out) < want {
		ev, err := streamer.GetEvent(ctx)
		if err != nil {
			t.Fatalf("binlog: %v after %d of %d rows", err, len(out), want)
		}
		re, ok := ev.Event.(*replication.RowsEvent)
		if !ok || string(re.Table.Schema) != my.database || string(re.Table.Table) != table {
			continue
		}
		if re.Type() != replication.EnumRowsEventTypeInsert {
			t.Fatalf("unexpected %v rows event", re.Type())
		}
		cols, err := ColumnsFromTableMap(re.Table)
		if err != nil {
			t.Fatal(err)
		}
		if !checked {
			checkServerColumns(t, cols, expect)
			checked = true
		}
		pk := make([]int, len(re.Table.PrimaryKey))
		for i, c := range re.Table.PrimaryKey {
			pk[i] = int(c)
		}
		// Capture stores every row as Avro of its derived schema: each
		// image must come back byte for byte.
		as, err := schema.Derive((&Source{cfg: Config{Name: "types"}}).schemaTable(my.database, table, cols, pk))
		if err != nil {
			t.Fatalf("derive the Avro schema of %s: %v", table, err)
		}
		codec, err := schema.NewCodec(as)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range re.Rows {
			img, err := AppendRow(nil, cols, row)
			if err != nil {
				t.Fatalf("AppendRow: %v", err)
			}
			avroImg, err := codec.Encode(nil, img)
			if err != nil {
				t.Fatalf("Avro encode %s: %v", img, err)
			}
			if back, err := codec.Decode(nil, avroImg); err != nil || string(back) != string(img) {
				t.Fatalf("Avro round trip:\n got %s (%v)\nwant %s", back, err, img)
			}
			key, err := AppendKey(nil, cols, row, pk)
			if err != nil {
				t.Fatalf("AppendKey: %v", err)
			}
			types := make([]string, len(row))
			for i, v := range row {
				types[i] = fmt.Sprintf("%T", v)
			}
			out = append(out, capturedRow{row: img, key: key, goTypes: types})
		}
	}
	return out
}

// checkServerColumns compares ColumnsFromTableMap's result for the real
// table with the expected types and flags.
func checkServerColumns(t *testing.T, cols []ColumnInfo, expect []serverColumn) {
	t.Helper()
	if len(cols) != len(expect) {
		t.Fatalf("table map has %d columns, want %d", len(cols), len(expect))
	}
	for i, c := range cols {
		e := expect[i]
		if c.Name != e.name || c.Type != e.typ || c.Unsigned != e.unsigned || c.Binary != e.binary {
			t.Errorf("column %d: %+v, want name %s type %d unsigned %v binary %v", i, c, e.name, e.typ, e.unsigned, e.binary)
		}
	}
	for _, c := range cols {
		switch c.Name {
		case "e":
			if !reflect.DeepEqual(c.Enum, []string{"a", `b "q"`, "ü"}) {
				t.Errorf("ENUM members %q", c.Enum)
			}
		case "s":
			if !reflect.DeepEqual(c.Set, []string{"x", "y", "z"}) {
				t.Errorf("SET members %q", c.Set)
			}
		}
	}
}

// serverTexts reads every row's columns as the server renders them in
// SQL, by id.
func serverTexts(ctx context.Context, t *testing.T, conn *sql.Conn, cols []serverColumn) map[string][]sql.NullString {
	t.Helper()
	var sel []string
	for _, c := range cols {
		sel = append(sel, fmt.Sprintf(c.sel, c.name))
	}
	rows, err := conn.QueryContext(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM rj_types ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]sql.NullString{}
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out[vals[0].String] = vals
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// decodeCanonicalRow checks that row is one JSON object whose keys are the
// columns in table order and returns its id and values (nil, json.Number
// or string).
func decodeCanonicalRow(t *testing.T, row []byte, cols []serverColumn) (string, []any) {
	t.Helper()
	if !json.Valid(row) {
		t.Fatalf("invalid JSON row %s", row)
	}
	dec := json.NewDecoder(strings.NewReader(string(row)))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("row %s does not start an object", row)
	}
	values := make([]any, len(cols))
	for i, c := range cols {
		key, err := dec.Token()
		if err != nil || key != c.name {
			t.Fatalf("row %s: key %d is %v, want %s", row, i, key, c.name)
		}
		v, err := dec.Token()
		if err != nil {
			t.Fatalf("row %s: %v", row, err)
		}
		switch v.(type) {
		case nil, json.Number, string:
			values[i] = v
		default:
			t.Fatalf("row %s: column %s is %v, not a scalar", row, c.name, v)
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') || dec.More() {
		t.Fatalf("row %s has more than the table's columns", row)
	}
	id, ok := values[0].(json.Number)
	if !ok {
		t.Fatalf("row %s: id is not a number", row)
	}
	return string(id), values
}

// compareWithServer compares a canonical value with the server's text.
func compareWithServer(kind int, got any, server sql.NullString) error {
	if !server.Valid || got == nil {
		if server.Valid || got != nil {
			return fmt.Errorf("canonical %v, server %v", got, server)
		}
		return nil
	}
	switch kind {
	case asJSONDoc:
		s, ok := got.(string)
		var mine, theirs any
		if !ok || json.Unmarshal([]byte(s), &mine) != nil || json.Unmarshal([]byte(server.String), &theirs) != nil || !reflect.DeepEqual(mine, theirs) {
			return fmt.Errorf("canonical %#v, server %q: not the same JSON document", got, server.String)
		}
		return nil
	case asString:
		s, ok := got.(string)
		if !ok || s != server.String {
			return fmt.Errorf("canonical %#v, server %q", got, server.String)
		}
		return nil
	case asNumber:
		n, ok := got.(json.Number)
		if !ok || string(n) != server.String {
			return fmt.Errorf("canonical %#v, server %s", got, server.String)
		}
		return nil
	}
	n, ok := got.(json.Number)
	if !ok {
		return fmt.Errorf("canonical %#v is not a number", got)
	}
	bits := 64
	if kind == asFloat32 {
		bits = 32
	}
	mine, err := strconv.ParseFloat(string(n), bits)
	if err != nil {
		return err
	}
	theirs, err := strconv.ParseFloat(server.String, 64)
	if err != nil {
		return err
	}
	if bits == 32 {
		theirs = float64(float32(theirs))
	}
	if math.Float64bits(mine) != math.Float64bits(theirs) {
		return fmt.Errorf("canonical %s, server %s", n, server.String)
	}
	if shortest := strconv.FormatFloat(mine, 'g', -1, bits); shortest != string(n) {
		return fmt.Errorf("canonical %s is not the shortest text %s", n, shortest)
	}
	return nil
}
