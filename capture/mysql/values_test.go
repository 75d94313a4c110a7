package mysql

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

// valueCase is one column value and its expected canonical JSON; want ""
// means the value must be refused with ErrRowValue.
type valueCase struct {
	name string
	col  ColumnInfo
	v    any
	want string
}

// encodeValue encodes v as the only column of a row and returns the
// value's JSON.
func encodeValue(c ColumnInfo, v any) (string, error) {
	c.Name = "c"
	out, err := AppendRow(nil, []ColumnInfo{c}, []any{v})
	if err != nil {
		return "", err
	}
	s := string(out)
	if !strings.HasPrefix(s, `{"c":`) || !strings.HasSuffix(s, "}") {
		return "", fmt.Errorf("unexpected row %s", s)
	}
	return s[len(`{"c":`) : len(s)-1], nil
}

func runValueCases(t *testing.T, cases []valueCase) {
	t.Helper()
	for _, tc := range cases {
		got, err := encodeValue(tc.col, tc.v)
		switch {
		case tc.want == "" && !errors.Is(err, ErrRowValue):
			t.Errorf("%s: %T %#v gives %s, %v; want ErrRowValue", tc.name, tc.v, tc.v, got, err)
		case tc.want != "" && err != nil:
			t.Errorf("%s: %T %#v: %v", tc.name, tc.v, tc.v, err)
		case got != tc.want:
			t.Errorf("%s: %T %#v gives %s, want %s", tc.name, tc.v, tc.v, got, tc.want)
		}
	}
}

func intCol(typ byte, unsigned bool) ColumnInfo { return ColumnInfo{Type: typ, Unsigned: unsigned} }

func TestIntegerValues(t *testing.T) {
	const (
		tiny  = gomysql.MYSQL_TYPE_TINY
		short = gomysql.MYSQL_TYPE_SHORT
		int24 = gomysql.MYSQL_TYPE_INT24
		long  = gomysql.MYSQL_TYPE_LONG
		ll    = gomysql.MYSQL_TYPE_LONGLONG
	)
	runValueCases(t, []valueCase{
		// TINYINT
		{"tinyint min", intCol(tiny, false), int8(-128), "-128"},
		{"tinyint max", intCol(tiny, false), int8(127), "127"},
		{"tinyint raw unsigned", intCol(tiny, false), uint8(255), "-1"},
		{"tinyint too small", intCol(tiny, false), int64(-129), ""},
		{"tinyint too big", intCol(tiny, false), int64(256), ""},
		{"tinyint unsigned -1", intCol(tiny, true), int8(-1), "255"},
		{"tinyint unsigned -128", intCol(tiny, true), int8(-128), "128"},
		{"tinyint unsigned max", intCol(tiny, true), uint8(255), "255"},
		{"tinyint unsigned zero", intCol(tiny, true), int(0), "0"},
		{"tinyint unsigned too big", intCol(tiny, true), uint16(256), ""},
		{"tinyint unsigned too small", intCol(tiny, true), int16(-129), ""},
		// SMALLINT
		{"smallint min", intCol(short, false), int16(-32768), "-32768"},
		{"smallint max", intCol(short, false), int16(32767), "32767"},
		{"smallint raw unsigned", intCol(short, false), uint16(65535), "-1"},
		{"smallint unsigned -1", intCol(short, true), int16(-1), "65535"},
		{"smallint unsigned -32768", intCol(short, true), int16(-32768), "32768"},
		{"smallint unsigned max", intCol(short, true), uint16(65535), "65535"},
		{"smallint unsigned too big", intCol(short, true), uint32(65536), ""},
		// MEDIUMINT: 24 bits
		{"mediumint min", intCol(int24, false), int32(-8388608), "-8388608"},
		{"mediumint max", intCol(int24, false), int32(8388607), "8388607"},
		{"mediumint raw unsigned", intCol(int24, false), uint32(0xffffff), "-1"},
		{"mediumint raw unsigned min", intCol(int24, false), uint32(0x800000), "-8388608"},
		{"mediumint too small", intCol(int24, false), int32(-8388609), ""},
		{"mediumint too big", intCol(int24, false), int32(16777216), ""},
		{"mediumint unsigned -1", intCol(int24, true), int32(-1), "16777215"},
		{"mediumint unsigned -8388608", intCol(int24, true), int32(-8388608), "8388608"},
		{"mediumint unsigned max", intCol(int24, true), uint32(16777215), "16777215"},
		{"mediumint unsigned too big", intCol(int24, true), uint32(16777216), ""},
		{"mediumint unsigned too small", intCol(int24, true), int32(-8388609), ""},
		// INT
		{"int min", intCol(long, false), int32(math.MinInt32), "-2147483648"},
		{"int max", intCol(long, false), int32(math.MaxInt32), "2147483647"},
		{"int raw unsigned", intCol(long, false), uint32(math.MaxUint32), "-1"},
		{"int unsigned -1", intCol(long, true), int32(-1), "4294967295"},
		{"int unsigned min32", intCol(long, true), int32(math.MinInt32), "2147483648"},
		{"int unsigned max", intCol(long, true), uint32(math.MaxUint32), "4294967295"},
		{"int unsigned too big", intCol(long, true), uint64(1 << 32), ""},
		{"int too small", intCol(long, false), int64(math.MinInt32 - 1), ""},
		// BIGINT
		{"bigint min", intCol(ll, false), int64(math.MinInt64), "-9223372036854775808"},
		{"bigint max", intCol(ll, false), int64(math.MaxInt64), "9223372036854775807"},
		{"bigint raw unsigned", intCol(ll, false), uint64(math.MaxUint64), "-1"},
		{"bigint unsigned -1", intCol(ll, true), int64(-1), "18446744073709551615"},
		{"bigint unsigned min64", intCol(ll, true), int64(math.MinInt64), "9223372036854775808"},
		{"bigint unsigned max", intCol(ll, true), uint64(math.MaxUint64), "18446744073709551615"},
		{"bigint from int", intCol(ll, false), int(-7), "-7"},
		{"bigint from uint", intCol(ll, true), uint(7), "7"},
		// Go types that are not integers
		{"int from string", intCol(long, false), "1", ""},
		{"int from float", intCol(long, false), float64(1), ""},
		{"int from bool", intCol(long, false), true, ""},
	})
}

func TestNumericValues(t *testing.T) {
	year := ColumnInfo{Type: gomysql.MYSQL_TYPE_YEAR, Unsigned: true}
	dec12 := ColumnInfo{Type: gomysql.MYSQL_TYPE_NEWDECIMAL, Meta: 12<<8 | 2}
	dec30 := ColumnInfo{Type: gomysql.MYSQL_TYPE_NEWDECIMAL, Meta: 30<<8 | 10}
	dec5 := ColumnInfo{Type: gomysql.MYSQL_TYPE_NEWDECIMAL, Meta: 5 << 8}
	flt := ColumnInfo{Type: gomysql.MYSQL_TYPE_FLOAT, Meta: 4}
	dbl := ColumnInfo{Type: gomysql.MYSQL_TYPE_DOUBLE, Meta: 8}
	bit5 := ColumnInfo{Type: gomysql.MYSQL_TYPE_BIT, Meta: 5}
	bit1 := ColumnInfo{Type: gomysql.MYSQL_TYPE_BIT, Meta: 1}
	bit64 := ColumnInfo{Type: gomysql.MYSQL_TYPE_BIT, Meta: 8 << 8}
	bit60 := ColumnInfo{Type: gomysql.MYSQL_TYPE_BIT, Meta: 7<<8 | 4}
	runValueCases(t, []valueCase{
		{"year", year, int(2024), "2024"},
		{"year zero", year, int(0), "0"},
		{"year max", year, int(2155), "2155"},
		{"year negative", year, int(-1), ""},
		{"year string", year, "2024", ""},

		{"decimal", dec12, "12.50", `"12.50"`},
		{"decimal negative", dec12, "-9999999999.99", `"-9999999999.99"`},
		{"decimal zero", dec12, "0.00", `"0.00"`},
		{"decimal short fraction padded", dec12, "7.5", `"7.50"`},
		{"decimal no fraction padded", dec12, "7", `"7.00"`},
		{"decimal bytes", dec12, []byte("1.25"), `"1.25"`},
		{"decimal wide", dec30, "-99999999999999999999.9999999999", `"-99999999999999999999.9999999999"`},
		{"decimal tiny", dec30, "-0.0000000001", `"-0.0000000001"`},
		{"decimal scale 0", dec5, "-12345", `"-12345"`},
		{"decimal scale 0 with point", dec5, "1.0", ""},
		{"decimal too many digits", dec12, "1.234", ""},
		{"decimal not a number", dec12, "1e5", ""},
		{"decimal empty", dec12, "", ""},
		{"decimal lone point", dec12, "1.", ""},
		{"decimal plus sign", dec12, "+1.00", ""},
		{"decimal type", dec12, fixedDecimal("3.10"), `"3.10"`},
		{"decimal float", dec12, 1.5, ""},

		{"float 0.1", flt, float32(0.1), "0.1"},
		{"float max", flt, float32(math.MaxFloat32), "3.4028235e+38"},
		{"float smallest", flt, float32(math.SmallestNonzeroFloat32), "1e-45"},
		{"float negative zero", flt, float32(math.Copysign(0, -1)), "-0"},
		{"float 2^24", flt, float32(16777216), "1.6777216e+07"},
		{"float 1e6", flt, float32(1e6), "1e+06"},
		{"float -1.5", flt, float32(-1.5), "-1.5"},
		{"float from exact float64", flt, float64(0.5), "0.5"},
		{"float from inexact float64", flt, float64(0.1), ""},
		{"float NaN", flt, float32(math.NaN()), `"NaN"`},
		{"float int", flt, int32(1), ""},

		{"double 0.1", dbl, 0.1, "0.1"},
		{"double max", dbl, math.MaxFloat64, "1.7976931348623157e+308"},
		{"double smallest", dbl, math.SmallestNonzeroFloat64, "5e-324"},
		{"double 1e100", dbl, 1e100, "1e+100"},
		{"double 1e21", dbl, 1e21, "1e+21"},
		{"double 100", dbl, 100.0, "100"},
		{"double 1e-7", dbl, 1e-7, "1e-07"},
		{"double 0.30000000000000004", dbl, math.Nextafter(0.3, 1), "0.30000000000000004"},
		{"double from float32", dbl, float32(0.1), "0.10000000149011612"},
		{"double +Inf", dbl, math.Inf(1), `"Infinity"`},
		{"double -Inf", dbl, math.Inf(-1), `"-Infinity"`},

		{"bit(5) max", bit5, int64(31), "31"},
		{"bit(5) zero", bit5, int64(0), "0"},
		{"bit(5) too big", bit5, int64(32), ""},
		{"bit(1)", bit1, int64(1), "1"},
		{"bit(64) all ones", bit64, int64(-1), "18446744073709551615"},
		{"bit(64) top bit", bit64, int64(math.MinInt64), "9223372036854775808"},
		{"bit(60) max", bit60, int64(1<<60 - 1), "1152921504606846975"},
		{"bit(60) too big", bit60, int64(1 << 60), ""},
		{"bit(60) negative", bit60, int64(-1), ""},
		{"bit of 0 bits", ColumnInfo{Type: gomysql.MYSQL_TYPE_BIT}, int64(0), ""},
		{"bit string", bit5, "1", ""},
	})
}

// fixedDecimal stands in for shopspring's decimal.Decimal (UseDecimal=true).
type fixedDecimal string

func (d fixedDecimal) StringFixed(places int32) string {
	if places != 2 {
		return "wrong places"
	}
	return string(d)
}

func TestEnumSetValues(t *testing.T) {
	enum := ColumnInfo{Type: gomysql.MYSQL_TYPE_ENUM, Meta: 0xf701, Enum: []string{"a", `b "q"`, "ü"}}
	set := ColumnInfo{Type: gomysql.MYSQL_TYPE_SET, Meta: 0xf801, Set: []string{"x", "y", "z"}}
	members := make([]string, 64)
	for i := range members {
		members[i] = fmt.Sprintf("m%d", i)
	}
	set64 := ColumnInfo{Type: gomysql.MYSQL_TYPE_SET, Meta: 0xf808, Set: members}
	runValueCases(t, []valueCase{
		{"enum index 0", enum, int64(0), `""`},
		{"enum first", enum, int64(1), `"a"`},
		{"enum escaped", enum, int64(2), `"b \"q\""`},
		{"enum last", enum, int64(3), `"ü"`},
		{"enum past the end", enum, int64(4), ""},
		{"enum negative", enum, int64(-1), ""},
		{"enum string", enum, "a", ""},
		{"set empty", set, int64(0), `""`},
		{"set one", set, int64(2), `"y"`},
		{"set two", set, int64(5), `"x,z"`},
		{"set all", set, int64(7), `"x,y,z"`},
		{"set unknown bit", set, int64(8), ""},
		{"set of 64, last", set64, int64(math.MinInt64), `"m63"`},
		{"set of 64, first and last", set64, int64(math.MinInt64 | 1), `"m0,m63"`},
		{"set string", set, "x", ""},
	})
}

func TestStringValues(t *testing.T) {
	char5 := ColumnInfo{Type: gomysql.MYSQL_TYPE_STRING, Meta: 0xfe14}
	char255 := ColumnInfo{Type: gomysql.MYSQL_TYPE_STRING, Meta: 0xcefc}
	binary4 := ColumnInfo{Type: gomysql.MYSQL_TYPE_STRING, Meta: 0xfe04, Binary: true}
	binary300 := ColumnInfo{Type: gomysql.MYSQL_TYPE_STRING, Meta: 0xee2c, Binary: true}
	varchar := ColumnInfo{Type: gomysql.MYSQL_TYPE_VARCHAR, Meta: 400}
	varbinary := ColumnInfo{Type: gomysql.MYSQL_TYPE_VARCHAR, Meta: 16, Binary: true}
	text := ColumnInfo{Type: gomysql.MYSQL_TYPE_BLOB, Meta: 2}
	blob := ColumnInfo{Type: gomysql.MYSQL_TYPE_BLOB, Meta: 2, Binary: true}
	geometry := ColumnInfo{Type: gomysql.MYSQL_TYPE_GEOMETRY, Meta: 4}
	point := []byte{0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40}
	runValueCases(t, []valueCase{
		{"char", char5, "ab", `"ab"`},
		{"char empty", char5, "", `""`},
		{"char long", char255, "ü", `"ü"`},
		{"char escapes", char5, "a\"\\\n", `"a\"\\\n"`},
		{"binary padded", binary4, "ab", `"\\x61620000"`},
		{"binary empty padded", binary4, "", `"\\x00000000"`},
		{"binary full", binary4, "\xde\xad\xbe\xef", `"\\xdeadbeef"`},
		{"binary too long", binary4, "abcde", ""},
		{"binary(300) padded", binary300, "a", `"\\x61` + strings.Repeat("00", 299) + `"`},
		{"varchar", varchar, "tab\tnl\nctl\x01", `"tab\tnl\nctl\u0001"`},
		{"varchar u2028", varchar, "a\u2028b", `"a\u2028b"`},
		{"varchar invalid utf8", varchar, "a\xffb", `"a\ufffdb"`},
		{"varchar html", varchar, "<a&b>", `"<a&b>"`},
		{"varbinary", varbinary, "v\x00", `"\\x7600"`},
		{"varbinary empty", varbinary, "", `"\\x"`},
		{"varbinary bytes", varbinary, []byte{0xff}, `"\\xff"`},
		{"text", text, []byte("é🙂"), `"é🙂"`},
		{"text empty", text, []byte{}, `""`},
		{"blob", blob, []byte{0, 1, 0xab, 0xff}, `"\\x0001abff"`},
		{"blob empty", blob, []byte{}, `"\\x"`},
		{"geometry point", geometry, point, `"\\x000000000101000000000000000000f03f0000000000000040"`},
		{"text int", text, 1, ""},
		{"blob int", blob, 1, ""},
		{"geometry string", geometry, "\x01", `"\\x01"`},
	})
}

func TestTemporalValues(t *testing.T) {
	date := ColumnInfo{Type: gomysql.MYSQL_TYPE_DATE}
	timeOld := ColumnInfo{Type: gomysql.MYSQL_TYPE_TIME}
	timeN := func(fsp uint16) ColumnInfo { return ColumnInfo{Type: gomysql.MYSQL_TYPE_TIME2, Meta: fsp} }
	dtN := func(fsp uint16) ColumnInfo { return ColumnInfo{Type: gomysql.MYSQL_TYPE_DATETIME2, Meta: fsp} }
	tsN := func(fsp uint16) ColumnInfo { return ColumnInfo{Type: gomysql.MYSQL_TYPE_TIMESTAMP2, Meta: fsp} }
	berlin := time.FixedZone("CET", 3600)
	runValueCases(t, []valueCase{
		{"date", date, "2024-02-29", `"2024-02-29"`},
		{"date zero", date, "0000-00-00", `"0000-00-00"`},
		{"date zero day", date, "2024-02-00", `"2024-02-00"`},
		{"date bytes", date, []byte("1000-01-01"), `"1000-01-01"`},
		{"date short", date, "2024-2-29", ""},
		{"date with time", date, "2024-02-29 00:00:00", ""},
		{"date int", date, 20240229, ""},

		{"time old", timeOld, "12:34:56", `"12:34:56"`},
		{"time(0) min", timeN(0), "-838:59:59", `"-838:59:59"`},
		{"time(0) max", timeN(0), "838:59:59", `"838:59:59"`},
		{"time(0) zero", timeN(0), "00:00:00", `"00:00:00"`},
		{"time(0) minus one second", timeN(0), "-00:00:01", `"-00:00:01"`},
		{"time(1)", timeN(1), "-00:00:00.5", `"-00:00:00.5"`},
		{"time(2) zero fraction padded", timeN(2), "12:00:00", `"12:00:00.00"`},
		{"time(3)", timeN(3), "-01:02:03.001", `"-01:02:03.001"`},
		{"time(4)", timeN(4), "01:02:03.0004", `"01:02:03.0004"`},
		{"time(5)", timeN(5), "01:02:03.00005", `"01:02:03.00005"`},
		{"time(6) smallest negative", timeN(6), "-00:00:00.000001", `"-00:00:00.000001"`},
		{"time(6) zero padded", timeN(6), "00:00:00", `"00:00:00.000000"`},
		{"time(6) min padded", timeN(6), "-838:59:59", `"-838:59:59.000000"`},
		{"time(6) short fraction padded", timeN(6), "01:00:00.5", `"01:00:00.500000"`},
		{"time(0) zero fraction cut", timeN(0), "01:00:00.000", `"01:00:00"`},
		{"time(3) fraction lost", timeN(3), "01:02:03.0004", ""},
		{"time one-digit hours", timeN(0), "1:02:03", ""},
		{"time four-digit hours", timeN(0), "1000:02:03", ""},
		{"time bad minutes", timeN(0), "10:2:03", ""},
		{"time empty fraction", timeN(3), "10:02:03.", ""},
		{"time bad fsp", timeN(7), "10:02:03", ""},
		{"time int", timeN(0), 1, ""},

		{"datetime(0)", dtN(0), "2024-02-29 13:14:15", `"2024-02-29 13:14:15"`},
		{"datetime old", ColumnInfo{Type: gomysql.MYSQL_TYPE_DATETIME}, "2024-02-29 13:14:15", `"2024-02-29 13:14:15"`},
		{"datetime(1)", dtN(1), "2024-02-29 13:14:15.0", `"2024-02-29 13:14:15.0"`},
		{"datetime(3)", dtN(3), "2024-02-29 13:14:15.100", `"2024-02-29 13:14:15.100"`},
		{"datetime(3) padded", dtN(3), "2024-02-29 13:14:15", `"2024-02-29 13:14:15.000"`},
		{"datetime(6)", dtN(6), "1000-01-01 00:00:00.000001", `"1000-01-01 00:00:00.000001"`},
		{"datetime(3) zero", dtN(3), "0000-00-00 00:00:00.000", `"0000-00-00 00:00:00.000"`},
		{"datetime(0) zero", dtN(0), "0000-00-00 00:00:00", `"0000-00-00 00:00:00"`},
		{"datetime(2) fraction lost", dtN(2), "2024-02-29 13:14:15.123", ""},
		{"datetime T separator", dtN(0), "2024-02-29T13:14:15", ""},
		{"datetime date only", dtN(0), "2024-02-29", ""},
		{"datetime time.Time", dtN(6), time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC), `"2024-02-29 13:14:15.123456"`},
		{"datetime time.Time cut", dtN(2), time.Date(2024, 2, 29, 13, 14, 15, 500000000, time.UTC), `"2024-02-29 13:14:15.50"`},
		{"datetime time.Time fraction lost", dtN(0), time.Date(2024, 2, 29, 13, 14, 15, 1000, time.UTC), ""},

		{"timestamp(0)", tsN(0), "1970-01-01 00:00:01", `"1970-01-01 00:00:01"`},
		{"timestamp old", ColumnInfo{Type: gomysql.MYSQL_TYPE_TIMESTAMP}, "2038-01-19 03:14:07", `"2038-01-19 03:14:07"`},
		{"timestamp(6)", tsN(6), "2000-01-01 00:00:00.000001", `"2000-01-01 00:00:00.000001"`},
		{"timestamp(6) zero", tsN(6), "0000-00-00 00:00:00.000000", `"0000-00-00 00:00:00.000000"`},
		{"timestamp(3) time.Time in UTC", tsN(3), time.Date(2024, 1, 1, 1, 0, 0, 5e8, berlin), `"2024-01-01 00:00:00.500"`},
		{"timestamp int", tsN(0), int64(1), ""},
	})
}

func TestJSONAndOtherValues(t *testing.T) {
	js := ColumnInfo{Type: gomysql.MYSQL_TYPE_JSON, Meta: 4}
	vector := ColumnInfo{Type: gomysql.MYSQL_TYPE_VECTOR, Meta: 4}
	null := ColumnInfo{Type: gomysql.MYSQL_TYPE_NULL}
	unknown := ColumnInfo{Type: 0x99}
	runValueCases(t, []valueCase{
		{"json object", js, `{"a": [1, 2.0, "x\"y"]}`, `"{\"a\": [1, 2.0, \"x\\\"y\"]}"`},
		{"json scalar", js, `"str"`, `"\"str\""`},
		{"json bytes", js, []byte(`[1]`), `"[1]"`},
		{"json empty document", js, []byte{}, `"null"`},
		{"json empty string", js, "", `"null"`},
		{"json partial update", js, &replication.JsonDiff{}, ""},
		{"json int", js, 1, ""},

		{"vector", vector, []byte{1, 2, 0xff}, `{"$type":"vector","text":"\\x0102ff"}`},
		{"null type", null, int64(0), `{"$type":"null","text":"0"}`},
		{"unknown type int", unknown, int64(-5), `{"$type":"153","text":"-5"}`},
		{"unknown type uint", unknown, uint64(5), `{"$type":"153","text":"5"}`},
		{"unknown type string", unknown, "ab", `{"$type":"153","text":"\\x6162"}`},
		{"unknown type float", unknown, 1.5, `{"$type":"153","text":"1.5"}`},
		{"unknown type float32", unknown, float32(0.1), `{"$type":"153","text":"0.1"}`},
		{"unknown type other", unknown, struct{}{}, ""},
	})
}

func TestNullIsNullForEveryType(t *testing.T) {
	for typ := range 256 {
		got, err := encodeValue(ColumnInfo{Type: byte(typ)}, nil)
		if err != nil || got != "null" {
			t.Errorf("type %d: NULL gives %s, %v", typ, got, err)
		}
	}
}
