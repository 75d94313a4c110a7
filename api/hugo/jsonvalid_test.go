package hugo

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func checkValidator(t *testing.T, b []byte) {
	t.Helper()
	ok, breaks := jsonCheck(b)
	if want := json.Valid(b) && utf8.Valid(b); ok != want {
		t.Fatalf("jsonCheck(%q) = %v, json.Valid && utf8.Valid = %v", b, ok, want)
	}
	if ok {
		var c bytes.Buffer
		_ = json.Compact(&c, b)
		// A line break outside strings is whitespace that Compact removes;
		// inside strings it cannot occur raw.
		if want := bytes.ContainsAny(b, "\n\r"); breaks != want {
			t.Fatalf("jsonCheck(%q) breaks = %v, want %v", b, breaks, want)
		}
	}
}

func TestJSONCheck(t *testing.T) {
	for _, s := range []string{
		``, ` `, `{}`, `[]`, `{"a":1}`, ` {"a" : [1, -0.5e+10, true, false, null, "x\u00e9\n"]} `, `{"a":1,}`, `[1,]`,
		`{"a"}`, `{"a":}`, `{1:2}`, `"\x"`, `"\u12"`, `"\u12G4"`, "\"\x01\"", "\"\xff\"", "\"é\"", `01`, `-`, `1.`, `1e`,
		`1e+`, `.5`, `-01`, `tru`, `nulll`, `{"a":1}{}`, `[[[[]]]]`, "{\n\"a\":1\r}", `"\/"`, `[1 2]`, `{"a":1 "b":2}`,
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001), strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	} {
		checkValidator(t, []byte(s))
	}
	r := rand.New(rand.NewPCG(3, 5))
	parts := []string{"{", "}", "[", "]", ",", ":", `"a"`, `"\n"`, `"\u00e9"`, "\"\xc3\xa9\"", "\"\xff\"", "1", "-2.5e3", "0", "01",
		"true", "null", " ", "\n", "\t", `"`, `\`, "x", "é"}
	for i := 0; i < 200000; i++ {
		var sb strings.Builder
		for j := r.IntN(10); j > 0; j-- {
			sb.WriteString(parts[r.IntN(len(parts))])
		}
		checkValidator(t, []byte(sb.String()))
	}
}

func FuzzJSONCheck(f *testing.F) {
	f.Add([]byte(`{"id":7,"a":[1,2.5e-3,"x\u2028"],"n":null}`))
	f.Add([]byte("{\n}"))
	f.Add([]byte("\"\xff\""))
	f.Fuzz(func(t *testing.T, b []byte) { checkValidator(t, b) })
}
