package mysql

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cairnlog/cairn/schema"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
)

// stdJSONString is encoding/json's encoding of s with SetEscapeHTML(false):
// the reference capture.AppendJSONString must match byte for byte.
func stdJSONString(t testing.TB, s string) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func TestAppendJSONTextExact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{``, `""`},
		{`plain`, `"plain"`},
		{`a"b\c`, `"a\"b\\c"`},
		{"\b\f\n\r\t", `"\b\f\n\r\t"`},
		{"\x00\x01\x1f", `"\u0000\u0001\u001f"`},
		{"\x0b\x1b", `"\u000b\u001b"`},
		{"\x7f<>&'/", "\"\x7f<>&'/\""},
		{"é🙂", `"é🙂"`},
		{"a\u2028b\u2029c", `"a\u2028b\u2029c"`},
		{"\xff", `"\ufffd"`},
		{"a\xc3", `"a\ufffd"`},                                 // truncated 2-byte sequence
		{"\xe2\x80", `"\ufffd\ufffd"`},                         // truncated 3-byte sequence: one \ufffd per byte
		{"\xc0\xaf", `"\ufffd\ufffd"`},                         // overlong encoding
		{"\xed\xa0\x80", `"\ufffd\ufffd\ufffd"`},               // UTF-16 surrogate
		{"\xef\xbf\xbd", "\"\xef\xbf\xbd\""},                   // a real U+FFFD is copied
		{"x\xf4\x90\x80\x80y", `"x\ufffd\ufffd\ufffd\ufffdy"`}, // above U+10FFFF
	} {
		if got := string(schema.AppendJSONString(nil, tc.in)); got != tc.want {
			t.Errorf("schema.AppendJSONString(%q) = %s, want %s", tc.in, got, tc.want)
		}
		if got := string(schema.AppendJSONString([]byte("pre"), []byte(tc.in))); got != "pre"+tc.want {
			t.Errorf("schema.AppendJSONString([]byte %q) = %s, want pre%s", tc.in, got, tc.want)
		}
		if std := stdJSONString(t, tc.in); std != tc.want {
			t.Errorf("encoding/json gives %s for %q; the expectation %s is wrong", std, tc.in, tc.want)
		}
	}
}

func TestAppendJSONTextMatchesEncodingJSON(t *testing.T) {
	var inputs []string
	for b := range 256 {
		inputs = append(inputs, string([]byte{byte(b)}), "a"+string([]byte{byte(b)})+"z")
	}
	for r := rune(0x80); r < 0x3000; r += 7 {
		inputs = append(inputs, string(r)+"\"", "\\"+string(r))
	}
	inputs = append(inputs, "\u2028\u2029", string(utf8.MaxRune), "\xf0\x9f\x99", "\xf0\x9f\x99\x82\xf0")
	for _, in := range inputs {
		if got, want := string(schema.AppendJSONString(nil, in)), stdJSONString(t, in); got != want {
			t.Errorf("schema.AppendJSONString(%q) = %s, encoding/json %s", in, got, want)
		}
	}
}

// testColumns is a table with one column of several families, for row and
// key tests.
func testColumns() []ColumnInfo {
	return []ColumnInfo{
		{Name: "id", Type: gomysql.MYSQL_TYPE_LONGLONG, Unsigned: true},
		{Name: "name", Type: gomysql.MYSQL_TYPE_VARCHAR, Meta: 400},
		{Name: "raw", Type: gomysql.MYSQL_TYPE_BLOB, Meta: 2, Binary: true},
		{Name: "amount", Type: gomysql.MYSQL_TYPE_NEWDECIMAL, Meta: 12<<8 | 2},
		{Name: `we"ird`, Type: gomysql.MYSQL_TYPE_TINY},
		{Name: "at", Type: gomysql.MYSQL_TYPE_DATETIME2, Meta: 3},
	}
}

func TestAppendRow(t *testing.T) {
	cols := testColumns()
	row := []any{int64(-1), "Ann \"A\"", []byte{0, 0xab}, "12.50", nil, "2024-02-29 13:14:15.100"}
	got, err := AppendRow([]byte("x"), cols, row)
	if err != nil {
		t.Fatal(err)
	}
	want := `x{"id":18446744073709551615,"name":"Ann \"A\"","raw":"\\x00ab","amount":"12.50","we\"ird":null,"at":"2024-02-29 13:14:15.100"}`
	if string(got) != want {
		t.Errorf("AppendRow = %s\nwant        %s", got, want)
	}
	if !json.Valid(got[1:]) {
		t.Errorf("AppendRow output is not valid JSON: %s", got)
	}

	empty, err := AppendRow(nil, nil, nil)
	if err != nil || string(empty) != "{}" {
		t.Errorf("AppendRow of no columns = %s, %v; want {}", empty, err)
	}
}

func TestAppendRowErrors(t *testing.T) {
	cols := testColumns()
	good := []any{int64(1), "n", []byte{}, "1.00", int8(1), "2024-02-29 13:14:15.100"}
	for _, tc := range []struct {
		name   string
		row    []any
		target error
		column string
	}{
		{"too few values", good[:5], ErrRowShape, ""},
		{"too many values", append(append([]any(nil), good...), nil), ErrRowShape, ""},
		{"wrong Go type", []any{int64(1), 42, []byte{}, "1.00", int8(1), nil}, ErrRowValue, `"name"`},
		{"out of range", []any{int64(1), "n", []byte{}, "1.00", int64(300), nil}, ErrRowValue, `"we\"ird"`},
		{"bad decimal", []any{int64(1), "n", []byte{}, "secret-1.5", int8(1), nil}, ErrRowValue, `"amount"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := AppendRow(dst, cols, tc.row)
			if !errors.Is(err, tc.target) {
				t.Fatalf("AppendRow error = %v, want %v", err, tc.target)
			}
			if string(got) != "keep" {
				t.Errorf("AppendRow returned %q on error, want dst unchanged", got)
			}
			if !strings.Contains(err.Error(), tc.column) {
				t.Errorf("error %q does not name column %s", err, tc.column)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q shows the value", err)
			}
		})
	}
}

func TestAppendKey(t *testing.T) {
	cols := testColumns()
	row := []any{int8(-1), "k", []byte{1}, "0.00", int8(-5), nil}
	for _, tc := range []struct {
		idx  []int
		want string
	}{
		{[]int{0}, `{"id":18446744073709551615}`},
		{[]int{1, 4}, `{"name":"k","we\"ird":-5}`},
		{[]int{4, 1}, `{"name":"k","we\"ird":-5}`}, // key order in, table order out
		{[]int{5, 2, 0}, `{"id":18446744073709551615,"raw":"\\x01","at":null}`},
	} {
		idx := append([]int(nil), tc.idx...)
		got, err := AppendKey([]byte("k="), cols, row, idx)
		if err != nil {
			t.Errorf("AppendKey(%v): %v", tc.idx, err)
			continue
		}
		if string(got) != "k="+tc.want {
			t.Errorf("AppendKey(%v) = %s, want k=%s", tc.idx, got, tc.want)
		}
		for i := range idx {
			if idx[i] != tc.idx[i] {
				t.Errorf("AppendKey modified idx: %v, was %v", idx, tc.idx)
				break
			}
		}
	}
	for _, tc := range []struct {
		name   string
		row    []any
		idx    []int
		target error
	}{
		{"no key columns", row, nil, ErrRowShape},
		{"index past the end", row, []int{6}, ErrRowShape},
		{"negative index", row, []int{-1, 0}, ErrRowShape},
		{"duplicate index", row, []int{1, 0, 1}, ErrRowShape},
		{"short row", row[:3], []int{0}, ErrRowShape},
		{"bad key value", []any{"x", "k", nil, nil, nil, nil}, []int{0}, ErrRowValue},
	} {
		got, err := AppendKey([]byte("keep"), cols, tc.row, tc.idx)
		if !errors.Is(err, tc.target) || string(got) != "keep" {
			t.Errorf("%s: AppendKey = %q, %v; want dst unchanged and %v", tc.name, got, err, tc.target)
		}
	}
}

func FuzzAppendRow(f *testing.F) {
	f.Add("plain", []byte("blob"), []byte("text"))
	f.Add("quote \" backslash \\ nl \n", []byte{0, 1, 0xff}, []byte("\u2028\u2029"))
	f.Add("\xff\xfe invalid \xc3", []byte{}, []byte("\xed\xa0\x80"))
	f.Add("\x00\x1f\x7f", []byte{0x80}, []byte("é🙂<>&"))
	cols := []ColumnInfo{
		{Name: "vc", Type: gomysql.MYSQL_TYPE_VARCHAR, Meta: 1000},
		{Name: "ch", Type: gomysql.MYSQL_TYPE_STRING, Meta: 0xcefc},
		{Name: "tx", Type: gomysql.MYSQL_TYPE_BLOB, Meta: 4},
		{Name: "bl", Type: gomysql.MYSQL_TYPE_BLOB, Meta: 4, Binary: true},
		{Name: "vb", Type: gomysql.MYSQL_TYPE_VARCHAR, Meta: 1000, Binary: true},
		{Name: "js", Type: gomysql.MYSQL_TYPE_JSON, Meta: 4},
	}
	f.Fuzz(func(t *testing.T, s string, blob, text []byte) {
		row := []any{s, s, text, blob, string(blob), s}
		out, err := AppendRow(nil, cols, row)
		if err != nil {
			t.Fatalf("AppendRow: %v", err)
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON: %q", out)
		}
		want := `{"vc":` + stdJSONString(t, s) + `,"ch":` + stdJSONString(t, s) +
			`,"tx":` + stdJSONString(t, string(text)) +
			`,"bl":"\\x` + hex.EncodeToString(blob) + `","vb":"\\x` + hex.EncodeToString(blob) + `"`
		if s == "" {
			want += `,"js":"null"}`
		} else {
			want += `,"js":` + stdJSONString(t, s) + `}`
		}
		if string(out) != want {
			t.Fatalf("AppendRow = %s\nwant        %s", out, want)
		}
	})
}
