package badgerstore

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/cairnlog/cairn/journal"
)

const marker = "PLAINTEXT-MARKER-9c41e2"

func appendMarkers(t *testing.T, cfg Config) {
	t.Helper()
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var es []journal.Entry
	for i := 0; i < 200; i++ {
		es = append(es, journal.Entry{Kind: journal.KindAppEvent, Key: []byte(marker), Payload: []byte(`{"note":"` + marker + `"}`)})
	}
	if _, err := s.Append(context.Background(), "secret", es); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func filesContaining(t *testing.T, dir string, needle []byte) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, needle) {
			hits = append(hits, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

func TestEncryptionAtRest(t *testing.T) {
	// Control: without a key the marker is on disk, so the check below can fail.
	plain := DefaultConfig(t.TempDir())
	appendMarkers(t, plain)
	if len(filesContaining(t, plain.Dir, []byte(marker))) == 0 {
		t.Fatal("control: marker not found in an unencrypted store; the encryption check would prove nothing")
	}

	key := bytes.Repeat([]byte{0x5a}, 32)
	cfg := DefaultConfig(t.TempDir())
	cfg.EncryptionKey = key
	appendMarkers(t, cfg)
	if hits := filesContaining(t, cfg.Dir, []byte(marker)); len(hits) > 0 {
		t.Fatalf("plaintext marker found in %v", hits)
	}

	noKey := DefaultConfig(cfg.Dir)
	if _, err := Open(noKey); !errors.Is(err, journal.ErrEncryptionKey) {
		t.Fatalf("open without key: %v, want ErrEncryptionKey", err)
	}
	wrong := cfg
	wrong.EncryptionKey = bytes.Repeat([]byte{0x33}, 32)
	if _, err := Open(wrong); !errors.Is(err, journal.ErrEncryptionKey) {
		t.Fatalf("open with wrong key: %v, want ErrEncryptionKey", err)
	}
	s, err := Open(cfg)
	if err != nil {
		t.Fatalf("open with the right key: %v", err)
	}
	defer s.Close()
	recs, err := s.Read(context.Background(), "secret", 1, 10)
	if err != nil || len(recs) != 10 || string(recs[0].Key) != marker {
		t.Fatalf("read back: %d records, %v", len(recs), err)
	}
	res, err := journal.VerifyStream(context.Background(), s, "secret", s.VerifierKey(), true, nil)
	if err != nil || res.Entries != 200 {
		t.Fatalf("verify encrypted store: %+v, %v", res, err)
	}

	// A key given for an unencrypted store is refused rather than ignored.
	withKey := DefaultConfig(plain.Dir)
	withKey.EncryptionKey = key
	if _, err := Open(withKey); !errors.Is(err, journal.ErrEncryptionKey) {
		t.Fatalf("key for unencrypted dir: %v, want ErrEncryptionKey", err)
	}
}

func TestLockedAndMissingDir(t *testing.T) {
	cfg := DefaultConfig(t.TempDir())
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := Open(cfg); !errors.Is(err, journal.ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	missing := DefaultConfig(filepath.Join(t.TempDir(), "nope"))
	missing.MustExist = true
	if _, err := Open(missing); !errors.Is(err, journal.ErrNoDataDir) {
		t.Fatalf("missing dir: %v, want ErrNoDataDir", err)
	}
}
