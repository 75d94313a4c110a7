package postgres

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

var arrayCases = []valueCase{
	{typ: "_int4", text: "{}", want: `[]`},
	{typ: "_int4", text: "{1,NULL,-3}", want: `[1,null,-3]`},
	{typ: "_int4", text: "{{1,2},{3,4}}", want: `[[1,2],[3,4]]`},
	{typ: "_int4", text: "{{{1}},{{2}}}", want: `[[[1]],[[2]]]`},
	{typ: "_int4", text: "{{{{{{1}}}}}}", want: `[[[[[[1]]]]]]`},
	{typ: "_int8", text: "{-9223372036854775808,9223372036854775807}", want: `[-9223372036854775808,9223372036854775807]`},
	// Explicit bounds: the whole text as a string.
	{typ: "_int4", text: "[0:1]={7,8}", want: `"[0:1]={7,8}"`},
	{typ: "_text", text: "[2:2][1:1]={{x}}", want: `"[2:2][1:1]={{x}}"`},
	// Quoting.
	{typ: "_text", text: `{"a,b","c\"d",NULL,"NULL",""}`, want: `["a,b","c\"d",null,"NULL",""]`},
	{typ: "_text", text: "{\"with space\",\"back\\\\slash\",\"{}\",\"tab\there\",\"null\",\"vt\vx\",\"ff\fx\",\"nl\nx\",\" lead\",\"trail \"}",
		want: `["with space","back\\slash","{}","tab\there","null","vt\u000bx","ff\fx","nl\nx"," lead","trail "]`},
	{typ: "_text", text: `{plain,ü€😀,a.b-c,"a;b",'q',(x)}`, want: `["plain","ü€😀","a.b-c","a;b","'q'","(x)"]`, noRoundTrip: true},
	{typ: "_text", text: `{plain,ü€😀,a.b-c,a;b,'q',(x)}`, want: `["plain","ü€😀","a.b-c","a;b","'q'","(x)"]`},
	{typ: "_text", text: `{{a,b},{"c}",NULL}}`, want: `[["a","b"],["c}",null]]`},
	{typ: "_varchar", text: `{"NuLl",nulls}`, want: `["NuLl","nulls"]`},
	{typ: "_bpchar", text: `{"a  ","bc "}`, want: `["a  ","bc "]`},
	{typ: "public._citext", text: `{A,"b c"}`, want: `["A","b c"]`},
	// box uses ';' between elements; its own text holds ','.
	{typ: "_box", text: "{(1,1),(0,0);(3,3),(2,2)}", want: `["(1,1),(0,0)","(3,3),(2,2)"]`},
	{typ: "_box", text: "{{(1,1),(0,0)};{NULL}}", want: `[["(1,1),(0,0)"],[null]]`},
	{typ: "public._boxd", text: "{(1,1),(0,0)}", want: `["(1,1),(0,0)"]`},
	{typ: "_point", text: `{"(1,2)","(3,4)"}`, want: `["(1,2)","(3,4)"]`},
	// Element rules.
	{typ: "_float8", text: "{NaN,Infinity,-Infinity,1e+100,-0,1.5e-07}", want: `["NaN","Infinity","-Infinity",1e+100,-0,1.5e-07]`},
	{typ: "_float4", text: "{3.4028235e+38,NULL}", want: `[3.4028235e+38,null]`},
	{typ: "_numeric", text: "{NaN,1.10,NULL}", want: `["NaN","1.10",null]`},
	{typ: "_bool", text: "{t,f,NULL}", want: `[true,false,null]`},
	{typ: "_bytea", text: `{"\\x00","\\x"}`, want: `["\\x00","\\x"]`},
	{typ: "_jsonb", text: `{"{\"k\": \"v w\"}",1}`, want: `["{\"k\": \"v w\"}","1"]`},
	{typ: "_timestamptz", text: `{"2024-01-01 00:00:00+00",infinity}`, want: `["2024-01-01 00:00:00+00","infinity"]`},
	{typ: "_int4range", text: `{"[1,2)",empty}`, want: `["[1,2)","empty"]`},
	{typ: "public._mood", text: `{sad,"happy, \"really\""}`, want: `["sad","happy, \"really\""]`},
	{typ: "public._posint", text: "{1,2}", want: `[1,2]`},
	{typ: "public.intarr", text: "{5,6}", want: `[5,6]`},
	{typ: "public._intarr", text: `{"{1,2}","{3}",NULL,"{}"}`, want: `[[1,2],[3],null,[]]`},
	{typ: "public._pair", text: `{"(1,\"x,y\")","(,)"}`,
		want: `[{"$type":"public.pair","text":"(1,\"x,y\")"},{"$type":"public.pair","text":"(,)"}]`},
	{typ: "public._hstore", text: `{"\"a\"=>\"1\""}`, want: `[{"$type":"public.hstore","text":"\"a\"=>\"1\""}]`},
	// What array_in accepts beyond array_out's form.
	{typ: "_int4", text: " { 1 , 2 } ", want: `[1,2]`, noRoundTrip: true},
	{typ: "_int4", text: "{ }", want: `[]`, noRoundTrip: true},
	{typ: "_int4", text: "{ {1} , {2} }", want: `[[1],[2]]`, noRoundTrip: true},
	{typ: "_int4", text: `{"1",null,NuLl}`, want: `[1,null,null]`, noRoundTrip: true},
	{typ: "_text", text: `{a\,b,\NULL,"x"  ,  y z  ,"q"\ }`, want: `["a,b","NULL","x","y z","q "]`, noRoundTrip: true},
	{typ: "_text", text: `{ab"c d"e}`, want: `["abc de"]`, noRoundTrip: true},
}

var badArrayCases = []struct{ typ, text string }{
	{"_int4", ""}, {"_int4", "1,2"}, {"_int4", "{"}, {"_int4", "{1,2"}, {"_int4", "{1,2}x"},
	{"_int4", "{1,,2}"}, {"_int4", "{,}"}, {"_int4", "{1,}"}, {"_int4", "{{1},2}"}, {"_int4", "{1,{2}}"},
	{"_int4", "{}}"}, {"_int4", "{{1}"}, {"_int4", "{{{{{{{1}}}}}}}"}, {"_int4", "{1{2}}"},
	{"_text", `{"a}`}, {"_text", `{a\`}, {"_text", `{"a\"}`}, {"_text", `{a}{b}`}, {"_box", "{(1,1),(0,0),(2,2)}x"},
}

func TestAppendValueArrays(t *testing.T) {
	ts, names := catalog(t)
	for _, c := range arrayCases {
		got, err := ts.AppendValue(nil, oidOf(t, names, c.typ), []byte(c.text))
		if err != nil {
			t.Errorf("%s %q: %v", c.typ, c.text, err)
			continue
		}
		if string(got) != c.want {
			t.Errorf("%s %q:\n got %s\nwant %s", c.typ, c.text, got, c.want)
		}
		if !json.Valid(got) {
			t.Errorf("%s %q: invalid JSON %s", c.typ, c.text, got)
		}
	}
}

func TestAppendValueArrayErrors(t *testing.T) {
	ts, names := catalog(t)
	for _, c := range badArrayCases {
		got, err := ts.AppendValue([]byte("keep"), oidOf(t, names, c.typ), []byte(c.text))
		if !errors.Is(err, ErrBadArray) {
			t.Errorf("%s %q: err %v, want ErrBadArray", c.typ, c.text, err)
		}
		if string(got) != "keep" {
			t.Errorf("%s %q: dst changed to %q on error", c.typ, c.text, got)
		}
	}
	// A malformed element is the element type's error, wrapped with the
	// array's name.
	for _, c := range []struct{ typ, text string }{
		{"_int4", "{a}"}, {"_int4", "{1 2}"}, {"_bool", "{true}"}, {"_float8", "{nan}"}, {"_bytea", `{\\000}`},
	} {
		_, err := ts.AppendValue(nil, oidOf(t, names, c.typ), []byte(c.text))
		if !errors.Is(err, ErrBadValue) || !strings.Contains(err.Error(), c.typ) {
			t.Errorf("%s %q: err %v, want ErrBadValue naming %s", c.typ, c.text, err, c.typ)
		}
	}
}
