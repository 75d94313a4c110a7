package badgerstore

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/cairnlog/cairn/journal"
)

// scanOnly hides the index so journal.LatestSchemas scans.
type scanOnly struct{ s *Store }

func (w scanOnly) Read(ctx context.Context, stream string, from uint64, limit int) ([]journal.Record, error) {
	return w.s.Read(ctx, stream, from, limit)
}

// TestSchemaHeadsIndex: the index gives what a scan of the stream gives,
// across batches, duplicates and a reopen.
func TestSchemaHeadsIndex(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "j")
	s, err := Open(DefaultConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	if h, err := s.SchemaHeads(ctx, "db"); err != nil || len(h) != 0 {
		t.Fatalf("unknown stream: %v %v", h, err)
	}
	pos := 0
	entry := func(kind journal.Kind, table string, fp byte) journal.Entry {
		pos++
		e := journal.Entry{Kind: kind, SourcePosition: []byte(fmt.Sprintf("%08d", pos)), Table: table}
		if kind == journal.KindSchema {
			e.SchemaFingerprint = bytes.Repeat([]byte{fp}, 32)
			e.Payload = []byte("{}")
		}
		return e
	}
	batches := [][]journal.Entry{
		{entry(journal.KindSchema, "public.a", 1), entry(journal.KindChange, "public.a", 0), entry(journal.KindSchema, "public.b", 2)},
		{entry(journal.KindChange, "public.b", 0), entry(journal.KindSchema, "public.a", 3), entry(journal.KindChange, "public.a", 0)},
	}
	for _, b := range batches {
		if _, err := s.Append(ctx, "db", b); err != nil {
			t.Fatal(err)
		}
	}
	// A duplicate schema entry is skipped and must not move the index.
	dup := batches[0][0]
	dup.SchemaFingerprint = bytes.Repeat([]byte{9}, 32)
	if _, err := s.Append(ctx, "db", []journal.Entry{dup}); err != nil {
		t.Fatal(err)
	}
	check := func(st *Store) {
		t.Helper()
		got, err := st.SchemaHeads(ctx, "db")
		if err != nil {
			t.Fatal(err)
		}
		want, err := journal.LatestSchemas(ctx, scanOnly{st}, "db")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || len(want) != 2 {
			t.Fatalf("got %v, scan %v", got, want)
		}
		for table, w := range want {
			g := got[table]
			if g.Seq != w.Seq || !bytes.Equal(g.Fingerprint, w.Fingerprint) {
				t.Errorf("%s: index %d %x, scan %d %x", table, g.Seq, g.Fingerprint, w.Seq, w.Fingerprint)
			}
		}
		if got["public.a"].Fingerprint[0] != 3 || got["public.b"].Seq != 3 {
			t.Errorf("heads %v", got)
		}
		// Every version, in seq order, as a scan finds them.
		all, err := st.SchemaVersions(ctx, "db")
		if err != nil {
			t.Fatal(err)
		}
		scanned, err := journal.AllSchemas(ctx, scanOnly{st}, "db")
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(all) != fmt.Sprint(scanned) || len(all) != 3 || all[0].Seq != 1 || all[1].Seq != 3 || all[2].Seq != 5 || all[2].Fingerprint[0] != 3 {
			t.Errorf("versions %v, scan %v", all, scanned)
		}
	}
	check(s)
	s.Close()
	s, err = Open(DefaultConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check(s)
}
