package hugo

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cairnlog/cairn/journal"
)

func TestAppendRenderAppends(t *testing.T) {
	for _, c := range fixtureCases(t) {
		want, err := Render(&c.rec, fixtureOptions())
		if err != nil {
			t.Fatal(err)
		}
		prefix := []byte("prefix\n")
		got, err := AppendRender(prefix, &c.rec, fixtureOptions())
		if err != nil || !bytes.Equal(got, append([]byte("prefix\n"), want...)) {
			t.Fatalf("%s: AppendRender onto a prefix = %q, %v", c.name, got, err)
		}
		// A buffer with spare capacity, reused: same bytes again.
		buf := make([]byte, 0, 8)
		for range 3 {
			buf, err = AppendRender(buf[:0], &c.rec, fixtureOptions())
			if err != nil || !bytes.Equal(buf, want) {
				t.Fatalf("%s: rendering into a reused buffer differs", c.name)
			}
		}
	}
}

func TestSchemaVersionOption(t *testing.T) {
	rec := fixtureCases(t)[1].rec
	opt := Options{SchemaVersion: func(r *journal.Record) int32 { return int32(len(r.Table)) }}
	out, err := Render(&rec, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"schemaVersion":13,`, `"effectId":"cairn.shop.public.orders::v13::shop/2"`, `"sourcePeerId":null`} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	for _, v := range []int32{0, -1, math.MinInt32} {
		_, err := Render(&rec, Options{SchemaVersion: func(*journal.Record) int32 { return v }})
		if !errors.Is(err, ErrUnrenderable) || !strings.Contains(err.Error(), "schema version") {
			t.Errorf("schema version %d: err = %v", v, err)
		}
	}
	out, err = Render(&rec, Options{SchemaVersion: func(*journal.Record) int32 { return math.MaxInt32 }})
	if err != nil || !bytes.Contains(out, []byte(`::v2147483647::shop/2"`)) {
		t.Errorf("max schema version: %s, %v", out, err)
	}
}

func TestRenderRejects(t *testing.T) {
	base := fixtureCases(t)[1].rec
	cases := []struct {
		name string
		mod  func(*journal.Record)
		want string
	}{
		{"no stream", func(r *journal.Record) { r.Stream = "" }, "stream name"},
		{"bad stream", func(r *journal.Record) { r.Stream = "a/b" }, "stream name"},
		{"stream starts with dot", func(r *journal.Record) { r.Stream = ".a" }, "stream name"},
		{"long stream", func(r *journal.Record) { r.Stream = strings.Repeat("a", 129) }, "stream name"},
		{"seq 0", func(r *journal.Record) { r.Seq = 0 }, "seq 0"},
		{"seq too big", func(r *journal.Record) { r.Seq = 1 << 63 }, "out of range"},
		{"kind", func(r *journal.Record) { r.Kind = 0 }, "unknown kind"},
		{"op", func(r *journal.Record) { r.Op = 9 }, "unknown op"},
		{"commit time", func(r *journal.Record) { r.CommitTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "commit time"},
		{"recorded time", func(r *journal.Record) { r.RecordedAt = time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC) }, "recorded time"},
	}
	for _, c := range cases {
		rec := base
		c.mod(&rec)
		dst := []byte("keep")
		out, err := AppendRender(dst, &rec, Options{})
		if !errors.Is(err, ErrUnrenderable) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want ErrUnrenderable saying %q", c.name, err, c.want)
		}
		if string(out) != "keep" {
			t.Errorf("%s: dst changed on error: %q", c.name, out)
		}
	}
	if _, err := Render(nil, Options{}); !errors.Is(err, ErrUnrenderable) {
		t.Errorf("nil record: %v", err)
	}
}

func TestImages(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{``, `null`},
		{`{"id":1}`, `{"id":1}`},
		{`{"a": [1, 2]}`, `{"a": [1, 2]}`},               // valid, one line: as is
		{"{\n  \"a\": 1\n}", `{"a":1}`},                  // line breaks: compacted
		{` {"a":1}`, `{"a":1}`},                          // leading space: compacted
		{`[1,2]`, `{"$base64":"WzEsMl0="}`},              // JSON but not an object
		{`"str"`, `{"$base64":"InN0ciI="}`},              // likewise
		{`{"a":1`, `{"$base64":"eyJhIjox"}`},             // not JSON
		{"{\"a\":\"\n\"}", `{"$base64":"eyJhIjoiCiJ9"}`}, // raw newline in a string: not JSON
	} {
		if got := string(appendImage(nil, []byte(c.in))); got != c.want {
			t.Errorf("appendImage(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestPayloadEncoding(t *testing.T) {
	for in, want := range map[string]string{
		"": "", `{"a":1}`: EncodingJSON, `42`: EncodingJSON, "ALTER TABLE t": EncodingText, "\xff\x00": EncodingBinary,
	} {
		if got := PayloadEncoding([]byte(in)); got != want {
			t.Errorf("PayloadEncoding(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestStringEscaping compares the string escaper with encoding/json.
func TestStringEscaping(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "\"", "\\", "\n", "\r", "\t", "\b", "\f", "\x00", "\x1f", "\x7f", "<", ">", "&", "é", "𝔘", "\u2028", "\u2029", "\xff", "\xe2\x82", "€"}
	for i := 0; i < 20000; i++ {
		var sb strings.Builder
		for j := r.IntN(12); j > 0; j-- {
			sb.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		s := sb.String()
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got := appendString(nil, s); string(got)+"\n" != want.String() {
			t.Fatalf("appendString(%q) = %s, encoding/json gives %s", s, got, want.String())
		}
		if got, want := utf16Len(s), utf16Units(string([]rune(s))); got != want {
			t.Fatalf("utf16Len(%q) = %d, want %d", s, got, want)
		}
	}
}

// randomRecord builds a record from r, mostly valid, with awkward bytes in
// every free-form field.
func randomRecord(r *rand.Rand) journal.Record {
	pick := func(opts ...string) string { return opts[r.IntN(len(opts))] }
	randBytes := func(max int) []byte {
		b := make([]byte, r.IntN(max+1))
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		return b
	}
	randText := func() string {
		return pick("", "a", "public.orders", "tenant \"7\"", "ünï\u2028", "\x00\x1f\x7f", "\xff\xfe", "𝔘𝔫𝔦", strings.Repeat("x.ü𝔘", r.IntN(80)))
	}
	randTime := func() time.Time {
		switch r.IntN(3) {
		case 0:
			return time.Time{}
		case 1:
			return time.Unix(0, r.Int64N(253402300799999999999/1000)).In(time.FixedZone("x", 3600*r.IntN(14)))
		}
		return time.Unix(r.Int64N(1<<40)-1<<39, r.Int64N(1e9))
	}
	images := []func() []byte{
		func() []byte { return nil },
		func() []byte { return []byte(`{"id":7,"n":null,"u":{"$unchanged":true},"big":18446744073709551615}`) },
		func() []byte { return randBytes(40) },
		func() []byte { return []byte("{\n\"a\": [1,\r\n2]}") },
		func() []byte { return []byte(`[1]`) },
	}
	e := journal.Entry{
		Stream:            pick("s", "shop", "edge.big-numbers_1", strings.Repeat("z", 128), strings.Repeat("w", 90)),
		Seq:               []uint64{1, 2, 1<<53 + 1, 1<<63 - 1, r.Uint64N(1 << 63)}[r.IntN(5)],
		PrevHash:          someHash(string(randBytes(4))),
		Kind:              journal.Kind(1 + r.IntN(9)),
		SourceID:          randText(),
		SourcePosition:    randBytes(24),
		TxID:              randText(),
		CommitTime:        randTime(),
		Table:             randText(),
		Op:                journal.Op(r.IntN(6)),
		Key:               []byte(randText() + string(randBytes(2))),
		Before:            images[r.IntN(len(images))](),
		After:             images[r.IntN(len(images))](),
		SchemaFingerprint: randBytes(8),
		ProducerID:        randText(),
		ProducerSeq:       r.Uint64(),
		Payload:           images[r.IntN(len(images))](),
		RecordedAt:        randTime(),
	}
	if r.IntN(2) == 0 {
		e.Metadata = map[string]string{}
		for i := r.IntN(12); i > 0; i-- {
			e.Metadata[randText()+string(randBytes(1))] = randText()
		}
	}
	return journal.Record{Entry: e, Hash: someHash(string(randBytes(8)))}
}

// checkRendering is the property every rendering must have.
func checkRendering(t *testing.T, rec *journal.Record, opt Options) {
	t.Helper()
	out, err := Render(rec, opt)
	if err != nil {
		if !errors.Is(err, ErrUnrenderable) {
			t.Fatalf("error %v does not wrap ErrUnrenderable", err)
		}
		return
	}
	if !json.Valid(out) {
		t.Fatalf("invalid JSON for %+v:\n%s", rec.Entry, out)
	}
	if bytes.ContainsAny(out, "\n\r") {
		t.Fatalf("line break in the output:\n%q", out)
	}
	if !utf8.Valid(out) {
		t.Fatalf("output is not UTF-8:\n%q", out)
	}
	again, _ := AppendRender([]byte("x"), rec, opt)
	if !bytes.Equal(again[1:], out) {
		t.Fatalf("two renderings differ:\n%s\n%s", out, again[1:])
	}
	var v struct {
		StreamID        string      `json:"streamId"`
		Sequence        json.Number `json:"sequence"`
		EffectID        string      `json:"effectId"`
		ChangeID        string      `json:"changeId"`
		CheckpointToken string      `json:"checkpointToken"`
	}
	d := json.NewDecoder(bytes.NewReader(out))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	if v.Sequence.String() != json.Number(num(rec.Seq)).String() {
		t.Fatalf("sequence %s, want %d", v.Sequence, rec.Seq)
	}
	if v.ChangeID != ChangeID(&rec.Entry) || v.ChangeID != wantChangeID(&rec.Entry) {
		t.Fatalf("changeId %q, ChangeID %q, rule %q", v.ChangeID, ChangeID(&rec.Entry), wantChangeID(&rec.Entry))
	}
	if n := utf16Units(v.EffectID); n > MaxEffectIDLen {
		t.Fatalf("effectId %q is %d UTF-16 units", v.EffectID, n)
	}
	tok, err := ParseCheckpointToken(v.CheckpointToken)
	if err != nil || tok != (CheckpointToken{rec.Stream, rec.Seq, rec.Hash}) {
		t.Fatalf("checkpointToken %q: %+v, %v", v.CheckpointToken, tok, err)
	}
}

// TestRenderRandomRecords: every rendering of a random record is one line of
// valid JSON, the same every time, with a parseable token and an effectId
// within 256 UTF-16 units.
func TestRenderRandomRecords(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	n := 3000
	if testing.Short() {
		n = 300
	}
	for i := 0; i < n; i++ {
		rec := randomRecord(r)
		opt := Options{SourcePeerID: []string{"", "node-1", "nöde\"2\x01"}[i%3]}
		if i%4 == 0 {
			opt.SchemaVersion = func(*journal.Record) int32 { return int32(1 + i%1000) }
		}
		checkRendering(t, &rec, opt)
	}
}

func FuzzRender(f *testing.F) {
	f.Add("shop", uint64(2), uint8(1), uint8(2), "public.orders", []byte(`{"id":7}`), []byte(`{"id":7}`), []byte(`{"id":7,"a":1}`), []byte(nil), "", uint64(0), "k", "v", int64(1764126245123456000), "node")
	f.Add("edge.big-numbers_1", uint64(1<<53+1), uint8(7), uint8(0), "", []byte{0xff}, []byte("not json"), []byte(nil), []byte{0, 1}, "p\"x", uint64(1<<64-1), "\u2028", "\xff", int64(0), "")
	f.Fuzz(func(t *testing.T, stream string, seq uint64, kind, op uint8, table string, key, before, after, payload []byte,
		producer string, producerSeq uint64, mk, mv string, commitNanos int64, peer string) {
		rec := journal.Record{Entry: journal.Entry{
			Stream: stream, Seq: seq, Kind: journal.Kind(kind), Op: journal.Op(op), Table: table, TxID: table,
			SourceID: producer, Key: key, Before: before, After: after, Payload: payload, SourcePosition: key,
			ProducerID: producer, ProducerSeq: producerSeq, Metadata: map[string]string{mk: mv, mv: mk},
			SchemaFingerprint: payload,
		}, Hash: someHash(stream)}
		if commitNanos != 0 {
			rec.CommitTime = time.Unix(0, commitNanos)
			rec.RecordedAt = time.Unix(commitNanos, 0)
		}
		checkRendering(t, &rec, Options{SourcePeerID: peer})
	})
}
