package postgres

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestAppendRow(t *testing.T) {
	ts, names := catalog(t)
	cols := []Column{
		{Name: "z_id", TypeOID: oidOf(t, names, "int8")},
		{Name: "a_name", TypeOID: oidOf(t, names, "text")},
		{Name: "m_doc", TypeOID: oidOf(t, names, "jsonb")},
		{Name: "gone", TypeOID: oidOf(t, names, "int4")},
		{Name: "tags", TypeOID: oidOf(t, names, "_text")},
		{Name: `we"ird ü`, TypeOID: oidOf(t, names, "public.pair")},
		{Name: "ok", TypeOID: oidOf(t, names, "bool")},
	}
	vals := []Value{
		{Kind: ValueText, Data: []byte("42")},
		{Kind: ValueText, Data: []byte("Ann \"A\"")},
		{Kind: ValueUnchanged},
		{Kind: ValueNull},
		{Kind: ValueText, Data: []byte(`{x,NULL,"y z"}`)},
		{Kind: ValueText, Data: []byte("(1,2)")},
		{Kind: ValueText, Data: []byte("t")},
	}
	want := `{"z_id":42,"a_name":"Ann \"A\"","m_doc":{"$unchanged":true},"gone":null,` +
		`"tags":["x",null,"y z"],"we\"ird ü":{"$type":"public.pair","text":"(1,2)"},"ok":true}`
	got, err := AppendRow([]byte("head|"), ts, cols, vals)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "head|"+want {
		t.Fatalf("\n got %s\nwant head|%s", got, want)
	}
	if !json.Valid(got[len("head|"):]) {
		t.Fatal("row image is not valid JSON")
	}
	// Column order is the relation's, not sorted: decode keys in order.
	dec := json.NewDecoder(strings.NewReader(want))
	var keys []string
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cols {
		if keys[i] != c.Name {
			t.Errorf("key %d is %q, want %q", i, keys[i], c.Name)
		}
	}
}

func TestAppendRowEmpty(t *testing.T) {
	ts, _ := catalog(t)
	got, err := AppendRow(nil, ts, nil, nil)
	if err != nil || string(got) != "{}" {
		t.Fatalf("got %s, %v", got, err)
	}
}

func TestAppendRowErrors(t *testing.T) {
	ts, names := catalog(t)
	int4 := oidOf(t, names, "int4")
	cases := []struct {
		name string
		cols []Column
		vals []Value
		want error
	}{
		{"count", []Column{{"a", int4}}, nil, ErrColumnCount},
		{"binary", []Column{{"a", int4}}, []Value{{Kind: 'b', Data: []byte{0, 0, 0, 1}}}, ErrValueKind},
		{"zero kind", []Column{{"a", int4}}, []Value{{}}, ErrValueKind},
		{"bad value", []Column{{"a", int4}, {"b", int4}}, []Value{{Kind: ValueNull}, {Kind: ValueText, Data: []byte("x")}}, ErrBadValue},
	}
	for _, c := range cases {
		got, err := AppendRow([]byte("keep"), ts, c.cols, c.vals)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
		}
		if string(got) != "keep" {
			t.Errorf("%s: dst %q after error", c.name, got)
		}
	}
	_, err := AppendRow(nil, ts, []Column{{"price", int4}}, []Value{{Kind: ValueText, Data: []byte("12.5")}})
	if err == nil || !strings.Contains(err.Error(), `"price"`) || strings.Contains(err.Error(), "12.5") {
		t.Errorf("error should name the column but not the value: %v", err)
	}
}

func TestAppendRowAllocs(t *testing.T) {
	ts, names := catalog(t)
	cols := []Column{{"id", oidOf(t, names, "int4")}, {"name", oidOf(t, names, "text")}, {"tags", oidOf(t, names, "_text")}, {"big", oidOf(t, names, "text")}}
	vals := []Value{{Kind: ValueText, Data: []byte("1")}, {Kind: ValueText, Data: []byte("x")}, {Kind: ValueText, Data: []byte("{a,b}")}, {Kind: ValueUnchanged}}
	dst := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() {
		if _, err := AppendRow(dst[:0], ts, cols, vals); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("%v allocations per row, want 0", n)
	}
}

func BenchmarkAppendRow(b *testing.B) {
	ts, names := catalog(b)
	cols := []Column{
		{"id", oidOf(b, names, "int8")}, {"email", oidOf(b, names, "text")}, {"created", oidOf(b, names, "timestamptz")},
		{"score", oidOf(b, names, "float8")}, {"price", oidOf(b, names, "numeric")}, {"active", oidOf(b, names, "bool")},
		{"tags", oidOf(b, names, "_text")}, {"doc", oidOf(b, names, "jsonb")},
	}
	vals := []Value{
		{Kind: ValueText, Data: []byte("1234567")}, {Kind: ValueText, Data: []byte("someone@example.com")},
		{Kind: ValueText, Data: []byte("2024-02-29 07:44:15.5+00")}, {Kind: ValueText, Data: []byte("0.875")},
		{Kind: ValueText, Data: []byte("19.99")}, {Kind: ValueText, Data: []byte("t")},
		{Kind: ValueText, Data: []byte(`{red,"dark blue",NULL}`)}, {Kind: ValueText, Data: []byte(`{"a": 1, "b": [true, null]}`)},
	}
	dst := make([]byte, 0, 1024)
	for b.Loop() {
		var err error
		if dst, err = AppendRow(dst[:0], ts, cols, vals); err != nil {
			b.Fatal(err)
		}
	}
}
