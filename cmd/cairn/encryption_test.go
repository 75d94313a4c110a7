package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const plaintextMarker = "PLAINTEXT-MARKER-7f3a"

func markerPayload(i int) string { return fmt.Sprintf(`{"secret":"%s","i":%d}`, plaintextMarker, i) }

// filesWithMarker lists the files under dir that contain the marker bytes.
func filesWithMarker(t *testing.T, dir string) []string {
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
		if bytes.Contains(b, []byte(plaintextMarker)) {
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
	t.Parallel()
	dir := t.TempDir()
	keys := t.TempDir()
	key := writeFile(t, filepath.Join(keys, "aes.key"), strings.Repeat("0123456789abcdef", 4)+"\n")
	wrong := writeFile(t, filepath.Join(keys, "wrong.key"), strings.Repeat("fedcba9876543210", 4))

	out := mustCairn(t, events(1, 40, markerPayload), "append", "--data-dir", dir, "--encryption-key-file", key, "--stream", "s", "--producer", "p")
	if n := len(parseAppendOutput(t, out)); n != 40 {
		t.Fatalf("append printed %d results, want 40", n)
	}
	if hits := filesWithMarker(t, dir); len(hits) > 0 {
		t.Fatalf("plaintext marker found on disk in %v", hits)
	}

	r := cairn(t, "", nil, "tail", "--data-dir", dir, "--stream", "s")
	if line := oneErrorLine(t, r); r.code != 1 || !strings.Contains(line, "encryption key") {
		t.Fatalf("tail without a key: exit %d, %q", r.code, line)
	}
	r = cairn(t, "", nil, "tail", "--data-dir", dir, "--stream", "s", "--encryption-key-file", wrong)
	if line := oneErrorLine(t, r); r.code != 1 || !strings.Contains(line, "encryption key") {
		t.Fatalf("tail with the wrong key: exit %d, %q", r.code, line)
	}
	recs := tailJSONLines(t, "--data-dir", dir, "--stream", "s", "--encryption-key-file", key)
	if len(recs) != 40 || !strings.Contains(fmt.Sprint(recs[0]["payload"]), plaintextMarker) {
		t.Fatalf("tail with the key: %d entries, first payload %v", len(recs), recs[0]["payload"])
	}

	// The key also comes from CAIRN_ENCRYPTION_KEY, and verify works with it.
	r = cairn(t, "", []string{"CAIRN_ENCRYPTION_KEY=" + strings.Repeat("0123456789abcdef", 4)}, "verify", "--data-dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "verified 40 entries") {
		t.Fatalf("verify with CAIRN_ENCRYPTION_KEY: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	// A key file that is neither hex nor a raw AES key is refused before opening.
	bad := writeFile(t, filepath.Join(keys, "bad.key"), "not a key")
	r = cairn(t, "", nil, "tail", "--data-dir", dir, "--stream", "s", "--encryption-key-file", bad)
	if line := oneErrorLine(t, r); r.code != 1 || !strings.Contains(line, "encryption key") {
		t.Fatalf("tail with a malformed key file: exit %d, %q", r.code, line)
	}
}

// The same journal written without a key shows the marker, so the check
// above is meaningful.
func TestPlaintextWithoutEncryption(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	appendEvents(t, dir, "s", events(1, 40, markerPayload), 1)
	if len(filesWithMarker(t, dir)) == 0 {
		t.Fatal("control: the unencrypted journal does not show the marker, so the encryption check would prove nothing")
	}
}

// A key file may also hold the raw key bytes.
func TestRawKeyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key := writeFile(t, filepath.Join(t.TempDir(), "raw.key"), "0123456789ABCDEF") // 16 raw bytes, not hex
	mustCairn(t, events(1, 3, markerPayload), "append", "--data-dir", dir, "--encryption-key-file", key, "--stream", "s", "--producer", "p")
	if hits := filesWithMarker(t, dir); len(hits) > 0 {
		t.Fatalf("plaintext marker found on disk in %v", hits)
	}
	if recs := tailJSONLines(t, "--data-dir", dir, "--stream", "s", "--encryption-key-file", key); len(recs) != 3 {
		t.Fatalf("tail with the raw key printed %d entries, want 3", len(recs))
	}
}
