package history

import (
	"context"
	"errors"
	"testing"

	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/schema"
)

type recs []journal.Record

func (rs recs) Read(_ context.Context, _ string, from uint64, limit int) ([]journal.Record, error) {
	var out []journal.Record
	for _, r := range rs {
		if r.Seq >= from && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

func version(t *testing.T, cols ...schema.Column) (journal.Entry, *schema.Codec) {
	t.Helper()
	s, err := schema.Derive(schema.Table{Source: "db", Namespace: "public", Name: "t", Flavor: schema.Postgres, Columns: cols, Key: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := schema.MarshalRegistration(schema.Registration{Subject: "db.public.t", Mode: schema.Backward, Schema: s})
	if err != nil {
		t.Fatal(err)
	}
	fp := schema.FingerprintOf(s)
	c, err := schema.NewCodec(s)
	if err != nil {
		t.Fatal(err)
	}
	return journal.Entry{Kind: journal.KindSchema, Table: "public.t", Payload: payload, SchemaFingerprint: fp[:]}, c
}

// TestRender: Avro images render as the canonical row JSON they were
// encoded from, through versions learned lazily (rendering starts in the
// middle of the stream); entries without a fingerprint and key-only
// before images pass through.
func TestRender(t *testing.T) {
	id := schema.Column{Name: "id", Type: "int4"}
	v1, c1 := version(t, id, schema.Column{Name: "v", Type: "text", Nullable: true})
	v2, c2 := version(t, id, schema.Column{Name: "v", Type: "text", Nullable: true}, schema.Column{Name: "n", Type: "int8", Nullable: true})
	enc := func(c *schema.Codec, row string) []byte {
		b, err := c.Encode(nil, []byte(row))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	change := func(v journal.Entry, before, after []byte, md map[string]string) journal.Entry {
		return journal.Entry{Kind: journal.KindChange, Table: "public.t", Op: journal.OpUpdate, Before: before, After: after, SchemaFingerprint: v.SchemaFingerprint, Metadata: md}
	}
	entries := []journal.Entry{
		v1,
		change(v1, nil, enc(c1, `{"id":1,"v":"a"}`), nil),
		{Kind: journal.KindChange, Table: "mysql.t", After: []byte(`{"id":9}`)},
		v2,
		change(v2, enc(c2, `{"id":1,"v":"a","n":null}`), enc(c2, `{"id":1,"v":"b","n":7}`), nil),
		change(v2, []byte(`{"id":1}`), enc(c2, `{"id":2,"v":"b","n":7}`), map[string]string{"before_image": "key"}),
	}
	var rs recs
	for i, e := range entries {
		e.Stream, e.Seq = "db", uint64(i+1)
		rs = append(rs, journal.Record{Entry: e})
	}
	want := []struct{ before, after string }{
		{"", ""}, {"", `{"id":1,"v":"a"}`}, {"", `{"id":9}`}, {"", ""},
		{`{"id":1,"v":"a","n":null}`, `{"id":1,"v":"b","n":7}`},
		{`{"id":1}`, `{"id":2,"v":"b","n":7}`},
	}
	for _, start := range []int{0, 4} {
		h := New(rs, "db")
		for i := start; i < len(rs); i++ {
			got, err := h.Render(context.Background(), &rs[i])
			if err != nil {
				t.Fatalf("start %d seq %d: %v", start, i+1, err)
			}
			if i == 0 || i == 3 {
				continue
			}
			if string(got.Before) != want[i].before || string(got.After) != want[i].after {
				t.Errorf("start %d seq %d: before %s after %s, want %s %s", start, i+1, got.Before, got.After, want[i].before, want[i].after)
			}
		}
	}
	// A fingerprint never recorded is an error, not a silent pass-through.
	bad := journal.Record{Entry: change(v1, nil, []byte{2}, nil)}
	bad.SchemaFingerprint = make([]byte, 32)
	bad.Stream, bad.Seq = "db", 7
	if _, err := New(rs, "db").Render(context.Background(), &bad); !errors.Is(err, ErrUnknownFingerprint) {
		t.Fatalf("unknown fingerprint: %v", err)
	}
}
