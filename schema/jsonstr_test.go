package schema

import (
	"bytes"
	"encoding/json"
	"testing"
)

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "quote \" back \\ nl \n tab \t", "\x00\x1f\x7f", "<&>", "\u2028\u2029", "caf\xc3\xa9", "bad \xff\xfe utf8", "\xe2\x82"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		got := AppendJSONString(nil, s)
		if !bytes.Equal(got, bytes.TrimSuffix(want.Bytes(), []byte("\n"))) {
			t.Fatalf("AppendJSONString(%q) = %s, encoding/json gives %s", s, got, want.Bytes())
		}
		if !bytes.Equal(AppendJSONString(nil, []byte(s)), got) {
			t.Fatal("string and []byte inputs differ")
		}
	})
}
