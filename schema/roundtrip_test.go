package schema

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/hamba/avro/v2"
)

// pgValue is one line of testdata/pg_values.jsonl: a value exactly as
// capture/postgres writes it, with the column metadata of its type. The
// file is generated from capture/postgres's own test data (the values a
// real PostgreSQL 15 sent over pgoutput, testdata/pgoutput_values.jsonl,
// and the cases of its decode and array tests), run through
// capture/postgres's Types.AppendValue with its pg_type catalog.
type pgValue struct {
	Source    string `json:"source"`
	Column    Column `json:"column"`
	Canonical string `json:"canonical"`
}

func readPGValues(t testing.TB) []pgValue {
	t.Helper()
	f, err := os.Open("testdata/pg_values.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []pgValue
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v pgValue
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// roundTrip encodes row with a codec for t and checks that decoding gives
// the same bytes and that the readable rendering is valid JSON.
func roundTrip(t *testing.T, tbl Table, row string) {
	t.Helper()
	s, err := Derive(tbl)
	if err != nil {
		t.Fatalf("Derive: %v", err)
	}
	c, err := NewCodec(s)
	if err != nil {
		t.Fatalf("NewCodec: %v\n%s", err, mustJSON(t, s))
	}
	bin, err := c.Encode([]byte("prefix"), []byte(row))
	if err != nil {
		t.Fatalf("Encode %s: %v\nschema %s", row, err, mustJSON(t, s))
	}
	back, err := c.Decode([]byte("p:"), bin[len("prefix"):])
	if err != nil {
		t.Fatalf("Decode of %s: %v", row, err)
	}
	if string(back[2:]) != row {
		t.Fatalf("round trip\n got %s\nwant %s\nschema %s", back[2:], row, mustJSON(t, s))
	}
	rd, err := c.Readable(nil, bin[len("prefix"):])
	if err != nil || !json.Valid(rd) {
		t.Fatalf("Readable of %s: %s, %v", row, rd, err)
	}
}

func mustJSON(t testing.TB, s avro.Schema) string {
	b, err := MarshalSchema(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// pgNeverPrinted are inputs capture/postgres accepts but PostgreSQL never
// prints (byteaout writes lower-case hex); the codec refuses them rather
// than change their bytes.
var pgNeverPrinted = map[string]bool{`"\\xDEADbeef"`: true}

func TestRoundTripCapturedPostgresValues(t *testing.T) {
	for _, v := range readPGValues(t) {
		if pgNeverPrinted[v.Canonical] {
			col := v.Column
			col.Name = "c"
			s, err := Derive(Table{Source: "s", Namespace: "n", Name: "t", Flavor: Postgres, Columns: []Column{col}})
			if err != nil {
				t.Fatal(err)
			}
			c, _ := NewCodec(s)
			if _, err := c.Encode(nil, []byte(`{"c":`+v.Canonical+`}`)); !errors.Is(err, ErrRowValue) {
				t.Errorf("%s %s: err %v, want ErrRowValue", v.Source, v.Canonical, err)
			}
			continue
		}
		for _, nullable := range []bool{true, false} {
			col := v.Column
			col.Name, col.Nullable = "c", nullable
			tbl := Table{Source: "src", Namespace: "public", Name: "t", Flavor: Postgres, Columns: []Column{col}}
			t.Run(v.Source, func(t *testing.T) {
				roundTrip(t, tbl, `{"c":`+v.Canonical+`}`)
				if nullable {
					roundTrip(t, tbl, `{"c":null}`)
				}
			})
		}
	}
}
