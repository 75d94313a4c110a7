package journal

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

func goldenEntry() Entry {
	return Entry{
		Stream:            "orders",
		Seq:               42,
		PrevHash:          Hash{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32},
		Kind:              KindChange,
		SourceID:          "pg",
		SourcePosition:    []byte{0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 7},
		TxID:              "745",
		CommitTime:        time.Date(2026, 11, 26, 3, 4, 5, 123456000, time.UTC),
		Table:             "public.orders",
		Op:                OpUpdate,
		Key:               []byte(`{"id":7}`),
		Before:            []byte("old"),
		After:             []byte("new"),
		SchemaFingerprint: []byte{0xca, 0xfe},
		ProducerID:        "",
		ProducerSeq:       0,
		Payload:           nil,
		Metadata:          map[string]string{"z": "last", "a": "first"},
	}
}

// TestCanonicalGolden pins the byte layout documented in doc.go and
// docs/formats/journal.md. If it fails, the journal format changed: that
// breaks every existing journal's hashes and needs a new encoding version.
func TestCanonicalGolden(t *testing.T) {
	e := goldenEntry()
	b, err := EntryBytes(&e)
	if err != nil {
		t.Fatal(err)
	}
	h := HashEntryBytes(b)
	got := hex.EncodeToString(b) + "\n" + h.String() + "\n"
	path := filepath.Join("testdata", "entry_v1.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test ./journal -update once): %v", err)
	}
	if got != string(want) {
		t.Fatalf("canonical bytes changed:\n got %s\nwant %s", got, want)
	}
	// Spot-check the documented offsets so the doc and the code cannot drift apart.
	if !bytes.Equal(b[:32], e.PrevHash[:]) || b[32] != EncodingVersion {
		t.Fatal("prev_hash or version not where documented")
	}
	if !strings.HasPrefix(string(b[33:]), "\x00\x00\x00\x06orders\x00\x00\x00\x00\x00\x00\x00\x2a\x01") {
		t.Fatalf("stream/seq/kind not where documented: %x", b[33:52])
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	e := goldenEntry()
	b, err := EntryBytes(&e)
	if err != nil {
		t.Fatal(err)
	}
	d, err := DecodeEntryBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := EntryBytes(&d)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, b2) || !d.CommitTime.Equal(e.CommitTime) || d.Metadata["a"] != "first" {
		t.Fatalf("round trip changed the entry: %+v", d)
	}
}

func TestMetadataOrderDoesNotMatter(t *testing.T) {
	a, b := goldenEntry(), goldenEntry()
	b.Metadata = map[string]string{}
	for _, k := range []string{"z", "a"} {
		b.Metadata[k] = a.Metadata[k]
	}
	ba, _ := EntryBytes(&a)
	bb, _ := EntryBytes(&b)
	if !bytes.Equal(ba, bb) {
		t.Fatal("map insertion order changed the canonical bytes")
	}
}

func TestDecodeRejectsCorruption(t *testing.T) {
	e := goldenEntry()
	b, _ := EntryBytes(&e)
	cases := map[string][]byte{
		"truncated":      b[:len(b)-1],
		"trailing":       append(append([]byte(nil), b...), 0),
		"bad version":    func() []byte { c := bytes.Clone(b); c[32] = 9; return c }(),
		"huge length":    func() []byte { c := bytes.Clone(b); c[33] = 0xff; return c }(),
		"only prev hash": b[:32],
	}
	for name, c := range cases {
		if _, err := DecodeEntryBytes(c); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: got %v, want ErrCorrupt", name, err)
		}
	}
}

func FuzzDecodeEntryBytes(f *testing.F) {
	e := goldenEntry()
	b, _ := EntryBytes(&e)
	f.Add(b)
	empty := Entry{Kind: KindHeartbeat}
	b2, _ := EntryBytes(&empty)
	f.Add(b2)
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := DecodeEntryBytes(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("decode error not ErrCorrupt: %v", err)
			}
			return
		}
		// Anything that decodes must re-encode to exactly the same bytes:
		// the encoding is canonical, so there is one byte string per entry.
		re, err := EntryBytes(&d)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(re, data) {
			t.Fatalf("decode/encode not canonical:\n in %x\nout %x", data, re)
		}
	})
}
