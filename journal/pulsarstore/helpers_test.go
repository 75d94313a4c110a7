package pulsarstore

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cairnlog/cairn/fixtures"
	"github.com/cairnlog/cairn/journal"
)

// testKey is shared by every store of a test, like a deployment's key file.
func testKeyFile(t testing.TB) string {
	t.Helper()
	skey, _, err := journal.GenerateSigningKey("cairn-test")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "signing.key")
	if err := os.WriteFile(path, []byte(skey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func testConfig(t testing.TB, p *fixtures.Pulsar, dir, keyFile string) Config {
	cfg := DefaultConfig(p.ServiceURL(), p.AdminURL(), dir)
	cfg.Namespace = p.Namespace()
	cfg.SigningKeyFile = keyFile
	cfg.OperationTimeout = 20 * time.Second
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return cfg
}

func openStore(t testing.TB, cfg Config) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open pulsarstore: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
