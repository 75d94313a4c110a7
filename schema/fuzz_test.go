package schema

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// fuzzTable has a column of most kinds; FuzzRoundTrip feeds arbitrary row
// images to its codec: Encode must fail cleanly or give Avro that decodes
// to the same bytes, and whose readable rendering is valid JSON.
var fuzzTablePG = Table{Source: "f", Namespace: "public", Name: "t", Flavor: Postgres, Columns: []Column{
	{Name: "i", Type: "int4", Nullable: true}, {Name: "f", Type: "float8", Nullable: true},
	{Name: "f4", Type: "float4", Nullable: true},
	{Name: "n", Type: "numeric", Precision: 20, Scale: 4, Nullable: true}, {Name: "t", Type: "text", Nullable: true},
	{Name: "d", Type: "date", Nullable: true}, {Name: "ts", Type: "timestamptz", Nullable: true},
	{Name: "iv", Type: "interval", Nullable: true}, {Name: "tz", Type: "timetz", Nullable: true},
	{Name: "a", Type: "_int4", Elem: &Column{Type: "int4"}, Nullable: true},
	{Name: "o", Type: "public.pair", Class: ClassComposite, Nullable: true},
	{Name: "b", Type: "bytea", Nullable: true},
}}

var fuzzTableMySQL = Table{Source: "f", Namespace: "db", Name: "t", Flavor: MySQL, Columns: []Column{
	{Name: "u", Type: "bigint unsigned", Nullable: true}, {Name: "d", Type: "double", Nullable: true},
	{Name: "dt", Type: "datetime", Precision: 3, Nullable: true}, {Name: "tm", Type: "time", Precision: 2, Nullable: true},
	{Name: "dd", Type: "date", Nullable: true}, {Name: "e", Type: "enum", EnumValues: []string{"a", "b"}, Nullable: true},
	{Name: "dec", Type: "decimal", Precision: 10, Scale: 3, Nullable: true},
}}

func FuzzRoundTrip(f *testing.F) {
	f.Add(`{"i":1,"f":0.1,"f4":1.5,"n":"12.3400","t":"x","d":"2024-02-29","ts":"2024-02-29 07:44:15.5+00","iv":"1 day -00:00:01","tz":"13:14:15+02","a":[[1,2],[3,null]],"o":{"$type":"public.pair","text":"(1,x)"},"b":"\\x00"}`)
	f.Add(`{"i":null,"f":"NaN","f4":"-Infinity","n":"NaN","t":{"$unchanged":true},"d":"-infinity","ts":"infinity","iv":"-1 years +2 mons","tz":"00:00:00+05:45:30","a":"[0:1]={7,8}","o":null,"b":"\\x"}`)
	f.Add(`{"u":18446744073709551615,"d":1e+100,"dt":"0000-00-00 00:00:00.000","tm":"-838:59:59.00","dd":"2024-02-00","e":"","dec":"-0.000"}`)
	for _, v := range readPGValues(f) {
		f.Add(`{"t":` + v.Canonical + `}`)
	}
	codecs := []*Codec{mustCodec(f, fuzzTablePG), mustCodec(f, fuzzTableMySQL)}
	f.Fuzz(func(t *testing.T, row string) {
		for _, c := range codecs {
			// Values of one column in every column position.
			for _, r := range []string{row, spread(c, row)} {
				bin, err := c.Encode([]byte("keep"), []byte(r))
				if err != nil {
					if string(bin) != "keep" {
						t.Fatalf("dst changed on error")
					}
					continue
				}
				back, err := c.Decode(nil, bin[4:])
				if err != nil || !bytes.Equal(back, []byte(r)) {
					t.Fatalf("round trip of %s gave %s (%v)", r, back, err)
				}
				rd, err := c.Readable(nil, bin[4:])
				if err != nil || !json.Valid(rd) {
					t.Fatalf("readable of %s: %s (%v)", r, rd, err)
				}
			}
		}
	})
}

// spread turns {"t":V} into a row with V in every column of c.
func spread(c *Codec, row string) string {
	v, ok := strings.CutPrefix(row, `{"t":`)
	if !ok || !strings.HasSuffix(v, "}") {
		return row
	}
	v = v[:len(v)-1]
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range c.fields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(f.key)
		b.WriteString(v)
	}
	b.WriteByte('}')
	return b.String()
}

func mustCodec(t testing.TB, tbl Table) *Codec {
	t.Helper()
	s, err := Derive(tbl)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCodec(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
