package pulsarstore

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/cairnlog/cairn/fixtures"
	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/journal/journaltest"
)

// TestConformance runs the journal contract against a real broker: each
// journal name gets its own namespace and data dir; reopening a name gives
// back the same namespace and dir.
func TestConformance(t *testing.T) {
	base := t.TempDir()
	key := testKeyFile(t)
	var mu sync.Mutex
	brokers := map[string]*fixtures.Pulsar{}
	journaltest.RunConformance(t, func(t *testing.T, name string) journal.Store {
		mu.Lock()
		p, ok := brokers[name]
		mu.Unlock()
		if !ok {
			p = fixtures.SharedPulsar(t)
			mu.Lock()
			brokers[name] = p
			mu.Unlock()
		}
		return openStore(t, testConfig(t, p, filepath.Join(base, name), key))
	})
}
