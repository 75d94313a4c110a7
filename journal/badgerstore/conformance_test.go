package badgerstore

import (
	"path/filepath"
	"testing"

	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/journal/journaltest"
)

func TestConformance(t *testing.T) {
	base := t.TempDir()
	journaltest.RunConformance(t, func(t *testing.T, name string) journal.Store {
		cfg := DefaultConfig(filepath.Join(base, name))
		s, err := Open(cfg)
		if err != nil {
			t.Fatalf("open %s: %v", name, err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
