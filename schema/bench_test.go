package schema

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/hamba/avro/v2"
)

// ordersTable is the loadtest "orders" shape (bigint id, bigint,
// numeric(12,2), text, text, timestamptz).
var ordersTable = Table{Source: "bench", Namespace: "public", Name: "orders", Flavor: Postgres, Key: []string{"id"},
	Columns: []Column{
		{Name: "id", Type: "int8"},
		{Name: "customer_id", Type: "int8", Nullable: true},
		{Name: "amount", Type: "numeric", Precision: 12, Scale: 2, Nullable: true},
		{Name: "status", Type: "text", Nullable: true},
		{Name: "note", Type: "text", Nullable: true},
		{Name: "created_at", Type: "timestamptz", Nullable: true},
	}}

var ordersRow = []byte(`{"id":1234567,"customer_id":98765,"amount":"1999.99","status":"shipped","note":"leave at the door, ring twice","created_at":"2024-02-29 07:44:15.123456+00"}`)

// wideTable is capture/postgres's BenchmarkAppendRow row.
var wideTable = Table{Source: "bench", Namespace: "public", Name: "wide", Flavor: Postgres,
	Columns: []Column{
		{Name: "id", Type: "int8"}, {Name: "email", Type: "text", Nullable: true},
		{Name: "created", Type: "timestamptz", Nullable: true}, {Name: "score", Type: "float8", Nullable: true},
		{Name: "price", Type: "numeric", Nullable: true}, {Name: "active", Type: "bool", Nullable: true},
		{Name: "tags", Type: "_text", Elem: &Column{Type: "text"}, Nullable: true}, {Name: "doc", Type: "jsonb", Nullable: true},
	}}

var wideRow = []byte(`{"id":1234567,"email":"someone@example.com","created":"2024-02-29 07:44:15.5+00","score":0.875,"price":"19.99","active":true,"tags":["red","dark blue",null],"doc":"{\"a\": 1, \"b\": [true, null]}"}`)

func benchCodec(b *testing.B, tbl Table) *Codec {
	s, err := Derive(tbl)
	if err != nil {
		b.Fatal(err)
	}
	c, err := NewCodec(s)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func BenchmarkEncode(b *testing.B) {
	for _, bc := range []struct {
		name string
		tbl  Table
		row  []byte
	}{{"orders", ordersTable, ordersRow}, {"wide", wideTable, wideRow}} {
		b.Run(bc.name, func(b *testing.B) {
			c := benchCodec(b, bc.tbl)
			dst := make([]byte, 0, 512)
			b.SetBytes(int64(len(bc.row)))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if dst, err = c.Encode(dst[:0], bc.row); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, bc := range []struct {
		name string
		tbl  Table
		row  []byte
	}{{"orders", ordersTable, ordersRow}, {"wide", wideTable, wideRow}} {
		c := benchCodec(b, bc.tbl)
		bin, err := c.Encode(nil, bc.row)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name+"/canonical", func(b *testing.B) {
			dst := make([]byte, 0, 512)
			b.ReportAllocs()
			for b.Loop() {
				if dst, err = c.Decode(dst[:0], bin); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"/readable", func(b *testing.B) {
			dst := make([]byte, 0, 512)
			b.ReportAllocs()
			for b.Loop() {
				if dst, err = c.Readable(dst[:0], bin); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncodeReferenceGeneric is the generic path the codec avoids,
// measured in the same run for the ratio: encoding/json into a
// map[string]any, then hamba/avro's reflection-based Marshal of the map
// (against a schema of plain types: long, string, and the timestamp as
// its text, so no conversion work is counted for it).
func BenchmarkEncodeReferenceGeneric(b *testing.B) {
	s := avro.MustParse(`{"type":"record","name":"orders","fields":[
		{"name":"id","type":"long"},{"name":"customer_id","type":["null","long"]},
		{"name":"amount","type":["null","string"]},{"name":"status","type":["null","string"]},
		{"name":"note","type":["null","string"]},{"name":"created_at","type":["null","string"]}]}`)
	b.SetBytes(int64(len(ordersRow)))
	b.ReportAllocs()
	for b.Loop() {
		var m map[string]any
		dec := json.NewDecoder(bytesReader(ordersRow))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			b.Fatal(err)
		}
		id, _ := m["id"].(json.Number).Int64()
		cid, _ := m["customer_id"].(json.Number).Int64()
		m["id"], m["customer_id"] = id, cid
		if _, err := avro.Marshal(s, m); err != nil {
			b.Fatal(err)
		}
	}
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
