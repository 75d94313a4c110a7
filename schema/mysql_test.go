package schema

import (
	"strings"
	"testing"
)

// mysqlCases are canonical values exactly as capture/mysql writes them
// (the expectations of capture/mysql's values_test.go and rowjson_test.go),
// with the column metadata capture would pass.
var mysqlCases = []struct {
	col    Column
	values []string
}{
	{Column{Type: "tinyint"}, []string{"-128", "127", "-1", "0"}},
	{Column{Type: "tinyint unsigned"}, []string{"255", "128", "0"}},
	{Column{Type: "smallint"}, []string{"-32768", "32767"}},
	{Column{Type: "smallint", Unsigned: true}, []string{"65535", "32768"}},
	{Column{Type: "mediumint"}, []string{"-8388608", "8388607", "-1"}},
	{Column{Type: "mediumint unsigned"}, []string{"16777215", "8388608"}},
	{Column{Type: "int"}, []string{"-2147483648", "2147483647", "-1"}},
	{Column{Type: "int unsigned"}, []string{"4294967295", "2147483648"}},
	{Column{Type: "bigint"}, []string{"-9223372036854775808", "9223372036854775807", "-7"}},
	{Column{Type: "bigint unsigned"}, []string{"18446744073709551615", "9223372036854775808", "7", "0"}},
	{Column{Type: "year"}, []string{"2024", "0", "2155", "1901"}},
	{Column{Type: "decimal", Precision: 12, Scale: 2}, []string{`"12.50"`, `"-9999999999.99"`, `"0.00"`, `"7.50"`, `"1.25"`, `"-0.00"`}},
	{Column{Type: "decimal", Precision: 30, Scale: 10}, []string{`"-99999999999999999999.9999999999"`, `"-0.0000000001"`}},
	{Column{Type: "decimal", Precision: 65, Scale: 30}, []string{`"` + strings.Repeat("9", 35) + "." + strings.Repeat("9", 30) + `"`, `"-0.` + strings.Repeat("0", 29) + `1"`}},
	{Column{Type: "decimal", Precision: 5}, []string{`"-12345"`, `"0"`}},
	{Column{Type: "float"}, []string{"0.1", "3.4028235e+38", "1e-45", "-0", "1.6777216e+07", "1e+06", "-1.5", "0.5", `"NaN"`}},
	{Column{Type: "double"}, []string{"0.1", "1.7976931348623157e+308", "5e-324", "1e+100", "1e+21", "100", "1e-07", "0.30000000000000004", "0.10000000149011612", `"Infinity"`, `"-Infinity"`}},
	{Column{Type: "bit", Length: 5}, []string{"31", "0"}},
	{Column{Type: "bit", Length: 1}, []string{"1"}},
	{Column{Type: "bit", Length: 64}, []string{"18446744073709551615", "9223372036854775808"}},
	{Column{Type: "bit", Length: 60}, []string{"1152921504606846975"}},
	{Column{Type: "enum", EnumValues: []string{"a", `b "q"`, "ü"}}, []string{`""`, `"a"`, `"b \"q\""`, `"ü"`}},
	{Column{Type: "enum", EnumValues: []string{"small", "medium", "large"}}, []string{`""`, `"small"`, `"large"`}},
	{Column{Type: "set", EnumValues: []string{"x", "y", "z"}}, []string{`""`, `"y"`, `"x,z"`, `"x,y,z"`}},
	{Column{Type: "char", Length: 5}, []string{`"ab"`, `""`, `"ü"`, `"a\"\\\n"`}},
	{Column{Type: "binary", Length: 4}, []string{`"\\x61620000"`, `"\\x00000000"`, `"\\xdeadbeef"`}},
	{Column{Type: "varchar"}, []string{`"tab\tnl\nctl\u0001"`, `"a\u2028b"`, `"a\ufffdb"`, `"<a&b>"`}},
	{Column{Type: "varbinary"}, []string{`"\\x7600"`, `"\\x"`, `"\\xff"`}},
	{Column{Type: "blob", Binary: true}, []string{`"\\x0001abff"`, `"\\x"`}},
	{Column{Type: "text"}, []string{`"é🙂"`, `""`}},
	{Column{Type: "longblob"}, []string{`"\\x00"`}},
	{Column{Type: "geometry"}, []string{`"\\x000000000101000000000000000000f03f0000000000000040"`, `"\\x01"`}},
	{Column{Type: "date"}, []string{`"2024-02-29"`, `"0000-00-00"`, `"2024-02-00"`, `"1000-01-01"`, `"9999-12-31"`, `"0000-01-01"`, `"2023-02-30"`}},
	{Column{Type: "time"}, []string{`"12:34:56"`, `"-838:59:59"`, `"838:59:59"`, `"00:00:00"`, `"-00:00:01"`, `"23:59:59"`, `"24:00:00"`}},
	{Column{Type: "time", Precision: 1}, []string{`"-00:00:00.5"`, `"00:00:00.5"`}},
	{Column{Type: "time", Precision: 2}, []string{`"12:00:00.00"`}},
	{Column{Type: "time", Precision: 3}, []string{`"-01:02:03.001"`, `"01:02:03.001"`}},
	{Column{Type: "time", Precision: 6}, []string{`"-00:00:00.000001"`, `"00:00:00.000000"`, `"-838:59:59.000000"`, `"01:00:00.500000"`}},
	{Column{Type: "datetime"}, []string{`"2024-02-29 13:14:15"`, `"0000-00-00 00:00:00"`, `"9999-12-31 23:59:59"`}},
	{Column{Type: "datetime", Precision: 1}, []string{`"2024-02-29 13:14:15.0"`}},
	{Column{Type: "datetime", Precision: 3}, []string{`"2024-02-29 13:14:15.100"`, `"2024-02-29 13:14:15.000"`, `"0000-00-00 00:00:00.000"`, `"2024-02-00 10:00:00.000"`}},
	{Column{Type: "datetime", Precision: 6}, []string{`"1000-01-01 00:00:00.000001"`, `"2024-02-29 13:14:15.123456"`}},
	{Column{Type: "timestamp"}, []string{`"1970-01-01 00:00:01"`, `"2038-01-19 03:14:07"`, `"0000-00-00 00:00:00"`}},
	{Column{Type: "timestamp", Precision: 6}, []string{`"2000-01-01 00:00:00.000001"`, `"0000-00-00 00:00:00.000000"`}},
	{Column{Type: "timestamp", Precision: 3}, []string{`"2024-01-01 00:00:00.500"`}},
	{Column{Type: "json"}, []string{`"{\"a\": [1, 2.0, \"x\\\"y\"]}"`, `"\"str\""`, `"[1]"`, `"null"`}},
	{Column{Type: "vector"}, []string{`{"$type":"vector","text":"\\x0102ff"}`}},
	{Column{Type: "null"}, []string{`{"$type":"null","text":"0"}`}},
	{Column{Type: "153"}, []string{`{"$type":"153","text":"-5"}`, `{"$type":"153","text":"1.5"}`}},
}

func TestRoundTripMySQLValues(t *testing.T) {
	for _, tc := range mysqlCases {
		for _, nullable := range []bool{true, false} {
			col := tc.col
			col.Name, col.Nullable = "c", nullable
			tbl := Table{Source: "src", Namespace: "shop", Name: "t", Flavor: MySQL, Columns: []Column{col}}
			t.Run(col.Type, func(t *testing.T) {
				for _, v := range tc.values {
					roundTrip(t, tbl, `{"c":`+v+`}`)
				}
				if nullable {
					roundTrip(t, tbl, `{"c":null}`)
				}
			})
		}
	}
}

// TestMySQLRowImage is the example row of docs/formats/mysql-row-json.md.
func TestMySQLRowImage(t *testing.T) {
	tbl := Table{Source: "src", Namespace: "shop", Name: "orders", Flavor: MySQL, Key: []string{"id"}, Columns: []Column{
		{Name: "id", Type: "bigint unsigned"},
		{Name: "name", Type: "varchar", Length: 20, Nullable: true},
		{Name: "raw", Type: "varbinary", Length: 4, Nullable: true},
		{Name: "amount", Type: "decimal", Precision: 8, Scale: 2, Nullable: true},
		{Name: `we"ird`, Type: "int", Nullable: true},
		{Name: "at", Type: "datetime", Precision: 3, Nullable: true},
	}}
	roundTrip(t, tbl, `{"id":18446744073709551615,"name":"Ann \"A\"","raw":"\\x00ab","amount":"12.50","we\"ird":null,"at":"2024-02-29 13:14:15.100"}`)
}
