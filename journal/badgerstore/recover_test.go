package badgerstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/cairnlog/cairn/journal"
)

// A SIGKILL between Badger creating a memtable file and sizing it leaves a
// zero-length NNNNN.mem file (dgraph-io/badger#2207). The crash loop hit it
// in CI; this plants the same leftover and checks that a read-write open
// recovers with every entry intact and a read-only open says what to do.
func TestEmptyMemtableFileFromCrash(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig(dir)
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var es []journal.Entry
	for i := 0; i < 50; i++ {
		es = append(es, journal.Entry{Kind: journal.KindAppEvent, Key: []byte{byte(i)}, Payload: []byte(`{}`)})
	}
	if _, err := s.Append(context.Background(), "s", es); err != nil {
		t.Fatal(err)
	}
	head, err := s.Head(context.Background(), "s")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	leftover := filepath.Join(dir, "journal", "09999.mem")
	if err := os.WriteFile(leftover, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	ro := cfg
	ro.ReadOnly = true
	if _, err := Open(ro); !errors.Is(err, ErrUncleanShutdown) {
		t.Fatalf("read-only open with an empty memtable file: got %v, want ErrUncleanShutdown", err)
	}

	s, err = Open(cfg)
	if err != nil {
		t.Fatalf("read-write open did not recover from an empty memtable file: %v", err)
	}
	defer s.Close()
	got, err := s.Head(context.Background(), "s")
	if err != nil {
		t.Fatal(err)
	}
	if got != head {
		t.Fatalf("head after recovery = %+v, want %+v", got, head)
	}
}
