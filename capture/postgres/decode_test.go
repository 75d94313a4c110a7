package postgres

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/cairnlog/cairn/schema"
)

// valueCase is one text value of a type and its exact canonical JSON.
// noRoundTrip marks input PostgreSQL never prints (TextOf gives the
// normalised form instead).
type valueCase struct {
	typ         string
	text        string
	want        string
	noRoundTrip bool
}

var scalarCases = []valueCase{
	// Integers.
	{typ: "int2", text: "-32768", want: `-32768`},
	{typ: "int2", text: "0", want: `0`},
	{typ: "int4", text: "2147483647", want: `2147483647`},
	{typ: "int8", text: "-9223372036854775808", want: `-9223372036854775808`},
	{typ: "oid", text: "4294967295", want: `4294967295`},
	{typ: "xid", text: "12345", want: `12345`},
	{typ: "public.posint", text: "42", want: `42`},
	{typ: "public.posint2", text: "7", want: `7`},
	// Floats: shortest round-trip output (extra_float_digits=1).
	{typ: "float8", text: "-0", want: `-0`},
	{typ: "float8", text: "1e+100", want: `1e+100`},
	{typ: "float8", text: "5e-324", want: `5e-324`},
	{typ: "float8", text: "0.1", want: `0.1`},
	{typ: "float8", text: "1.2345678901234568e+20", want: `1.2345678901234568e+20`},
	{typ: "float8", text: "NaN", want: `"NaN"`},
	{typ: "float8", text: "Infinity", want: `"Infinity"`},
	{typ: "float8", text: "-Infinity", want: `"-Infinity"`},
	{typ: "float4", text: "3.4028235e+38", want: `3.4028235e+38`},
	{typ: "float4", text: "-1.5e-10", want: `-1.5e-10`},
	{typ: "float4", text: "1.5", want: `1.5`},
	{typ: "float4", text: "NaN", want: `"NaN"`},
	// Numeric: always the exact text as a string.
	{typ: "numeric", text: "NaN", want: `"NaN"`},
	{typ: "numeric", text: "-Infinity", want: `"-Infinity"`},
	{typ: "numeric", text: "1.10", want: `"1.10"`},
	{typ: "numeric", text: "123456789012345678901234567890.123456789012345678901234567890",
		want: `"123456789012345678901234567890.123456789012345678901234567890"`},
	{typ: "numeric", text: "-0.000000000000000000000000000000000000001", want: `"-0.000000000000000000000000000000000000001"`},
	// Bool.
	{typ: "bool", text: "t", want: `true`},
	{typ: "bool", text: "f", want: `false`},
	// Strings.
	{typ: "text", text: "", want: `""`},
	{typ: "text", text: "quote\" back\\ nl\n tab\t cr\r bell\x07 bs\b ff\f esc\x1b del\x7f",
		want: `"quote\" back\\ nl\n tab\t cr\r bell\u0007 bs\b ff\f esc\u001b del` + "\x7f" + `"`},
	{typ: "text", text: "ü € 😀 \u2028 \u2029 <&> 'x'", want: `"ü € 😀 \u2028 \u2029 <&> 'x'"`},
	{typ: "text", text: "\x00\x01\x1f", want: `"\u0000\u0001\u001f"`},
	{typ: "text", text: "bad \xff utf8 \xe2\x82", want: `"bad \ufffd utf8 \ufffd\ufffd"`, noRoundTrip: true},
	{typ: "varchar", text: "abc", want: `"abc"`},
	{typ: "bpchar", text: "ab   ", want: `"ab   "`},
	{typ: "name", text: "nm", want: `"nm"`},
	{typ: "char", text: `\351`, want: `"\\351"`},
	{typ: "public.citext", text: "MiXeD", want: `"MiXeD"`},
	{typ: "xml", text: `<a x="1">t</a>`, want: `"<a x=\"1\">t</a>"`},
	{typ: "json", text: `{"a": [1, 2.50]}`, want: `"{\"a\": [1, 2.50]}"`},
	{typ: "jsonb", text: `{"$type": "x", "text": 1}`, want: `"{\"$type\": \"x\", \"text\": 1}"`},
	// Bytea (hex).
	{typ: "bytea", text: `\x00ff10`, want: `"\\x00ff10"`},
	{typ: "bytea", text: `\x`, want: `"\\x"`},
	{typ: "bytea", text: `\xDEADbeef`, want: `"\\xDEADbeef"`},
	// Everything printed as is.
	{typ: "uuid", text: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", want: `"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"`},
	{typ: "inet", text: "192.168.0.1", want: `"192.168.0.1"`},
	{typ: "cidr", text: "::/0", want: `"::/0"`},
	{typ: "macaddr", text: "08:00:2b:01:02:03", want: `"08:00:2b:01:02:03"`},
	{typ: "macaddr8", text: "08:00:2b:01:02:03:04:05", want: `"08:00:2b:01:02:03:04:05"`},
	{typ: "money", text: "-$1.00", want: `"-$1.00"`},
	{typ: "bit", text: "1010", want: `"1010"`},
	{typ: "varbit", text: "", want: `""`},
	{typ: "date", text: "2024-02-29", want: `"2024-02-29"`},
	{typ: "date", text: "-infinity", want: `"-infinity"`},
	{typ: "time", text: "13:14:15.123456", want: `"13:14:15.123456"`},
	{typ: "timetz", text: "13:14:15+02", want: `"13:14:15+02"`},
	{typ: "timestamp", text: "2024-02-29 13:14:15.5", want: `"2024-02-29 13:14:15.5"`},
	{typ: "timestamptz", text: "2024-02-29 07:44:15.5+00", want: `"2024-02-29 07:44:15.5+00"`},
	{typ: "interval", text: "-1 days -00:00:01", want: `"-1 days -00:00:01"`},
	{typ: "tsvector", text: "'a' 'cat' 'fat'", want: `"'a' 'cat' 'fat'"`},
	{typ: "tsquery", text: "'fat' & !'rat'", want: `"'fat' & !'rat'"`},
	{typ: "point", text: "(1,2)", want: `"(1,2)"`},
	{typ: "line", text: "{1,2,3}", want: `"{1,2,3}"`},
	{typ: "lseg", text: "[(1,2),(3,4)]", want: `"[(1,2),(3,4)]"`},
	{typ: "box", text: "(3,4),(1,2)", want: `"(3,4),(1,2)"`},
	{typ: "path", text: "[(0,0),(1,1)]", want: `"[(0,0),(1,1)]"`},
	{typ: "polygon", text: "((0,0),(1,1),(1,0))", want: `"((0,0),(1,1),(1,0))"`},
	{typ: "circle", text: "<(1,2),3>", want: `"<(1,2),3>"`},
	{typ: "pg_lsn", text: "16/B374D848", want: `"16/B374D848"`},
	{typ: "int4range", text: "[1,10)", want: `"[1,10)"`},
	{typ: "int4range", text: "empty", want: `"empty"`},
	{typ: "tsrange", text: `["2024-01-01 00:00:00","2024-01-02 00:00:00")`, want: `"[\"2024-01-01 00:00:00\",\"2024-01-02 00:00:00\")"`},
	{typ: "int4multirange", text: "{[1,3),[5,7)}", want: `"{[1,3),[5,7)}"`},
	{typ: "int2vector", text: "1 2 3", want: `"1 2 3"`},
	{typ: "public.mood", text: `happy, "really"`, want: `"happy, \"really\""`},
	{typ: "public.boxd", text: "(1,1),(0,0)", want: `"(1,1),(0,0)"`},
	// Other types: "$type" objects.
	{typ: "public.pair", text: `(1,"a b")`, want: `{"$type":"public.pair","text":"(1,\"a b\")"}`},
	{typ: "public.hstore", text: `"a"=>"1", "b c"=>NULL`, want: `{"$type":"public.hstore","text":"\"a\"=>\"1\", \"b c\"=>NULL"}`},
}

var badScalarCases = []valueCase{
	{typ: "int4", text: ""}, {typ: "int4", text: "1.5"}, {typ: "int4", text: "+1"},
	{typ: "int4", text: "01"}, {typ: "int4", text: "-"}, {typ: "int4", text: " 1"},
	{typ: "int8", text: "1e3"}, {typ: "public.posint", text: "x"},
	{typ: "float8", text: ""}, {typ: "float8", text: "nan"}, {typ: "float8", text: "inf"},
	{typ: "float8", text: "1."}, {typ: "float8", text: ".5"}, {typ: "float8", text: "1e"},
	{typ: "float8", text: "+1"}, {typ: "float8", text: "0x10"}, {typ: "float4", text: "1,5"},
	{typ: "bool", text: "true"}, {typ: "bool", text: ""}, {typ: "bool", text: "T"},
	{typ: "bytea", text: `\000`}, {typ: "bytea", text: `\x0`}, {typ: "bytea", text: `\xzz`},
	{typ: "bytea", text: "abc"}, {typ: "bytea", text: ""},
}

func TestAppendValueScalars(t *testing.T) {
	ts, names := catalog(t)
	for _, c := range scalarCases {
		got, err := ts.AppendValue([]byte("prefix:"), oidOf(t, names, c.typ), []byte(c.text))
		if err != nil {
			t.Errorf("%s %q: %v", c.typ, c.text, err)
			continue
		}
		if string(got) != "prefix:"+c.want {
			t.Errorf("%s %q:\n got %s\nwant %s", c.typ, c.text, got[len("prefix:"):], c.want)
		}
		if !json.Valid(got[len("prefix:"):]) {
			t.Errorf("%s %q: invalid JSON %s", c.typ, c.text, got)
		}
	}
}

func TestAppendValueErrors(t *testing.T) {
	ts, names := catalog(t)
	for _, c := range badScalarCases {
		dst := []byte("keep")
		got, err := ts.AppendValue(dst, oidOf(t, names, c.typ), []byte(c.text))
		if !errors.Is(err, ErrBadValue) {
			t.Errorf("%s %q: err %v, want ErrBadValue", c.typ, c.text, err)
		}
		if string(got) != "keep" {
			t.Errorf("%s %q: dst changed to %q on error", c.typ, c.text, got)
		}
		if err != nil && len(c.text) >= 3 && strings.Contains(err.Error(), c.text) {
			t.Errorf("%s %q: error quotes the value: %v", c.typ, c.text, err)
		}
	}
}

func TestAppendValueUnknownOID(t *testing.T) {
	ts, _ := catalog(t)
	got, err := ts.AppendValue(nil, 999999, []byte("a\"b"))
	if err != nil || string(got) != `{"$type":"999999","text":"a\"b"}` {
		t.Fatalf("got %s, %v", got, err)
	}
}

// TestAppendJSONStringMatchesEncodingJSON compares the string escaper with
// encoding/json (SetEscapeHTML(false)) on every byte and on UTF-8 edges.
func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	inputs := []string{"", "plain", "\u2028\u2029", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf", "\xef\xbf\xbd", "a\xffb", "😀\xf0\x9f\x98"}
	for b := range 256 {
		inputs = append(inputs, string([]byte{byte(b)}), "x"+string([]byte{byte(b)})+"y")
	}
	for _, s := range inputs {
		want := encodingJSONString(t, s)
		if got := schema.AppendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("%q: got %s want %s", s, got, want)
		}
		if got := schema.AppendJSONString(nil, []byte(s)); !bytes.Equal(got, want) {
			t.Errorf("%q ([]byte): got %s want %s", s, got, want)
		}
	}
}

func encodingJSONString(t testing.TB, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func TestAppendValueAllocs(t *testing.T) {
	ts, names := catalog(t)
	dst := make([]byte, 0, 4096)
	for _, c := range []struct{ typ, text string }{
		{"int4", "123"}, {"float8", "NaN"}, {"text", "a \"quoted\" ü\n"}, {"bytea", `\x0102`},
		{"numeric", "1.5"}, {"public.pair", "(1,x)"}, {"_int4", "{{1,2},{3,NULL}}"},
		{"_text", `{a,"b c",NULL,"d,e"}`}, {"_float8", "{1.5,NaN}"}, {"_box", "{(1,1),(0,0);(2,2),(1,1)}"},
	} {
		oid, text := oidOf(t, names, c.typ), []byte(c.text)
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := ts.AppendValue(dst[:0], oid, text); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s %q: %v allocations per value, want 0", c.typ, c.text, allocs)
		}
	}
}

func BenchmarkAppendValue(b *testing.B) {
	ts, names := catalog(b)
	for _, c := range []struct{ typ, text string }{
		{"int8", "-9223372036854775808"},
		{"text", "The quick brown fox jumps over the lazy dog, twice: \"again\"."},
		{"timestamptz", "2024-02-29 07:44:15.5+00"},
		{"_int4", "{1,2,3,4,5,6,7,8,9,10}"},
		{"_text", `{alpha,"beta gamma","with \"quote\"",NULL}`},
	} {
		oid, text := oidOf(b, names, c.typ), []byte(c.text)
		b.Run(c.typ, func(b *testing.B) {
			dst := make([]byte, 0, 1024)
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				var err error
				if dst, err = ts.AppendValue(dst[:0], oid, text); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
