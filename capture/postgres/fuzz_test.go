package postgres

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzArrayLiteral feeds arbitrary text to the int4[], text[] and box[]
// decoders: each must fail cleanly (dst untouched) or produce valid JSON,
// never panic. For valid UTF-8, decoding TextOf's rendering of the result
// must give the same JSON again.
func FuzzArrayLiteral(f *testing.F) {
	for _, c := range arrayCases {
		f.Add(c.text)
	}
	for _, c := range badArrayCases {
		f.Add(c.text)
	}
	for _, s := range readSeeds(f) {
		if len(s.Text) > 0 && (s.Text[0] == '{' || s.Text[0] == '[') {
			f.Add(s.Text)
		}
	}
	ts, names := catalog(f)
	var oids []uint32
	for _, name := range []string{"_int4", "_text", "_box", "public._intarr"} {
		oids = append(oids, oidOf(f, names, name))
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, oid := range oids {
			out, err := ts.AppendValue([]byte("keep"), oid, []byte(text))
			if err != nil {
				if string(out) != "keep" {
					t.Fatalf("oid %d: dst changed on error: %q", oid, out)
				}
				continue
			}
			canon := out[len("keep"):]
			if !json.Valid(canon) {
				t.Fatalf("oid %d %q: invalid JSON %s", oid, text, canon)
			}
			if !utf8.ValidString(text) {
				continue
			}
			ti, _ := ts.Lookup(oid)
			back, _, err := TextOf(ti, canon)
			if err != nil {
				t.Fatalf("oid %d %q: TextOf(%s): %v", oid, text, canon, err)
			}
			again, err := ts.AppendValue(nil, oid, []byte(back))
			if err != nil || !bytes.Equal(again, canon) {
				t.Fatalf("oid %d %q: canonical %s, PG form %q decodes to %s (%v)", oid, text, canon, back, again, err)
			}
		}
	})
}

// FuzzAppendValue feeds arbitrary text to string types (output must be
// exactly encoding/json's and decode back to the input) and to the other
// scalar decoders (valid JSON or a clean error).
func FuzzAppendValue(f *testing.F) {
	for _, c := range scalarCases {
		f.Add(c.text)
	}
	for _, c := range badScalarCases {
		f.Add(c.text)
	}
	for _, s := range readSeeds(f) {
		f.Add(s.Text)
	}
	ts, names := catalog(f)
	var strOIDs, otherOIDs []uint32
	for _, name := range []string{"text", "varchar", "bpchar", "name", "xml", "json", "public.citext", "public.mood", "uuid"} {
		strOIDs = append(strOIDs, oidOf(f, names, name))
	}
	for _, name := range []string{"int8", "float8", "bool", "bytea", "public.posint", "public.pair"} {
		otherOIDs = append(otherOIDs, oidOf(f, names, name))
	}
	f.Fuzz(func(t *testing.T, text string) {
		want := encodingJSONString(t, text)
		for _, oid := range strOIDs {
			out, err := ts.AppendValue(nil, oid, []byte(text))
			if err != nil {
				t.Fatalf("oid %d: %v", oid, err)
			}
			if !bytes.Equal(out, want) {
				t.Fatalf("oid %d %q: got %s, encoding/json gives %s", oid, text, out, want)
			}
			var s string
			if err := json.Unmarshal(out, &s); err != nil {
				t.Fatalf("oid %d %q: %s does not decode: %v", oid, text, out, err)
			}
			if utf8.ValidString(text) && s != text {
				t.Fatalf("oid %d %q: decodes to %q", oid, text, s)
			}
		}
		for _, oid := range otherOIDs {
			out, err := ts.AppendValue([]byte("keep"), oid, []byte(text))
			if err != nil {
				if string(out) != "keep" {
					t.Fatalf("oid %d: dst changed on error: %q", oid, out)
				}
				continue
			}
			if !json.Valid(out[len("keep"):]) {
				t.Fatalf("oid %d %q: invalid JSON %s", oid, text, out)
			}
		}
	})
}
