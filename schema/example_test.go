package schema

import (
	"fmt"
)

func ExampleCodec() {
	t := Table{Source: "shop", Namespace: "public", Name: "orders", Flavor: Postgres, Key: []string{"id"},
		Columns: []Column{
			{Name: "id", Type: "int8"},
			{Name: "price", Type: "numeric", Precision: 12, Scale: 2},
			{Name: "placed", Type: "timestamptz", Nullable: true},
			{Name: "note", Type: "text", Nullable: true},
			{Name: "raw", Type: "bytea", Nullable: true},
			{Name: "tags", Type: "_text", Elem: &Column{Type: "text"}, Nullable: true},
			{Name: "wait", Type: "interval", Nullable: true},
		}}
	s, err := Derive(t)
	if err != nil {
		panic(err)
	}
	c, err := NewCodec(s)
	if err != nil {
		panic(err)
	}
	row := []byte(`{"id":42,"price":"19.99","placed":"2024-02-29 07:44:15.5+00","note":{"$unchanged":true},"raw":"\\x00ff","tags":[["a","b"],["c",null]],"wait":"1 day -00:00:01.5"}`)
	bin, err := c.Encode(nil, row)
	if err != nil {
		panic(err)
	}
	back, _ := c.Decode(nil, bin)
	readable, _ := c.Readable(nil, bin)
	fmt.Println(len(bin), "Avro bytes for", len(row), "JSON bytes")
	fmt.Println(string(back) == string(row))
	fmt.Println(string(readable))
	// Output:
	// 43 Avro bytes for 161 JSON bytes
	// true
	// {"id":42,"price":"19.99","placed":"2024-02-29T07:44:15.5Z","note":{"$unchanged":true},"raw":"AP8=","tags":[["a","b"],["c",null]],"wait":"P1DT-1.5S"}
}
