package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestProofs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	work := t.TempDir()
	pub := filepath.Join(dir, "signing.pub")

	appendEvents(t, dir, "s", events(1, 20, simplePayload), 1)
	oldCkpt := writeFile(t, filepath.Join(work, "old.ckpt"), mustCairn(t, "", "checkpoint", "--data-dir", dir, "--stream", "s"))
	appendEvents(t, dir, "s", events(21, 30, simplePayload), 21)
	ckptText := mustCairn(t, "", "checkpoint", "--data-dir", dir, "--stream", "s")
	if !strings.HasPrefix(ckptText, "cairn/s\n50\n") {
		t.Fatalf("checkpoint at 50 is:\n%s", ckptText)
	}
	if again := mustCairn(t, "", "checkpoint", "--data-dir", dir, "--stream", "s"); again != ckptText {
		t.Fatalf("a second checkpoint call at the same head differs:\n%s\nvs\n%s", again, ckptText)
	}
	ckpt := writeFile(t, filepath.Join(work, "new.ckpt"), ckptText)
	if got := mustCairn(t, "", "keys", "public", "--data-dir", dir); got != mustRead(t, pub) {
		t.Fatalf("keys public printed %q, signing.pub holds %q", got, mustRead(t, pub))
	}

	// Inclusion of seq 7 in the head tree (50 leaves).
	incl := mustCairn(t, "", "proof", "inclusion", "--data-dir", dir, "--stream", "s", "--seq", "7")
	var ij inclusionJSON
	if err := json.Unmarshal([]byte(incl), &ij); err != nil {
		t.Fatalf("inclusion proof is not JSON: %v\n%s", err, incl)
	}
	if ij.Type != "inclusion" || ij.Stream != "s" || ij.Seq != 7 || ij.TreeSize != 50 || len(ij.Path) == 0 {
		t.Fatalf("inclusion proof fields: %+v", ij)
	}
	recs := tailJSONLines(t, "--data-dir", dir, "--stream", "s", "--from", "7", "--limit", "1")
	if recs[0]["hash"] != ij.EntryHash {
		t.Fatalf("proof entry_hash %s, tail says %v", ij.EntryHash, recs[0]["hash"])
	}
	inclFile := writeFile(t, filepath.Join(work, "incl.json"), incl)
	out := mustCairn(t, "", "proof", "check", "--proof", inclFile, "--checkpoint", ckpt, "--public-key", pub)
	if !strings.HasPrefix(out, "proof OK: ") {
		t.Fatalf("proof check printed %q", out)
	}
	// The proof also comes from stdin by default.
	if out := mustCairn(t, incl, "proof", "check", "--checkpoint", ckpt, "--public-key", pub); !strings.HasPrefix(out, "proof OK: ") {
		t.Fatalf("proof check from stdin printed %q", out)
	}

	// One changed base64 character in a path node must fail.
	bad := ij
	bad.Path = append([]string(nil), ij.Path...)
	bad.Path[0] = flipBase64(bad.Path[0])
	badFile := writeFile(t, filepath.Join(work, "bad.json"), mustJSON(t, bad))
	r := cairn(t, "", nil, "proof", "check", "--proof", badFile, "--checkpoint", ckpt, "--public-key", pub)
	if line := oneErrorLine(t, r); r.code != 1 || !strings.Contains(line, "proof check failed") {
		t.Fatalf("tampered proof: exit %d, %q", r.code, line)
	}
	// The right proof against a checkpoint of another size must fail.
	r = cairn(t, "", nil, "proof", "check", "--proof", inclFile, "--checkpoint", oldCkpt, "--public-key", pub)
	if line := oneErrorLine(t, r); r.code != 1 || !strings.Contains(line, "tree size 50") {
		t.Fatalf("proof against the size-20 checkpoint: exit %d, %q", r.code, line)
	}
	// A checkpoint whose signature does not verify must fail.
	forged := writeFile(t, filepath.Join(work, "forged.ckpt"), strings.Replace(ckptText, "\n50\n", "\n51\n", 1))
	r = cairn(t, "", nil, "proof", "check", "--proof", inclFile, "--checkpoint", forged, "--public-key", pub)
	if line := oneErrorLine(t, r); r.code != 1 || !strings.Contains(line, "signature") {
		t.Fatalf("forged checkpoint: exit %d, %q", r.code, line)
	}

	// Consistency 20 -> 50 against both signed checkpoints.
	cons := mustCairn(t, "", "proof", "consistency", "--data-dir", dir, "--stream", "s", "--from-size", "20", "--to-size", "50")
	var cj consistencyJSON
	if err := json.Unmarshal([]byte(cons), &cj); err != nil {
		t.Fatalf("consistency proof is not JSON: %v\n%s", err, cons)
	}
	if cj.Type != "consistency" || cj.FromSize != 20 || cj.ToSize != 50 || len(cj.Path) == 0 {
		t.Fatalf("consistency proof fields: %+v", cj)
	}
	consFile := writeFile(t, filepath.Join(work, "cons.json"), cons)
	out = mustCairn(t, "", "proof", "check", "--proof", consFile, "--checkpoint", ckpt, "--old-checkpoint", oldCkpt, "--public-key", pub)
	if !strings.HasPrefix(out, "proof OK: ") {
		t.Fatalf("consistency check printed %q", out)
	}
	badC := cj
	badC.Path = append([]string(nil), cj.Path...)
	badC.Path[len(badC.Path)-1] = flipBase64(badC.Path[len(badC.Path)-1])
	badCFile := writeFile(t, filepath.Join(work, "badc.json"), mustJSON(t, badC))
	r = cairn(t, "", nil, "proof", "check", "--proof", badCFile, "--checkpoint", ckpt, "--old-checkpoint", oldCkpt, "--public-key", pub)
	if line := oneErrorLine(t, r); r.code != 1 || !strings.Contains(line, "proof check failed") {
		t.Fatalf("tampered consistency proof: exit %d, %q", r.code, line)
	}
	// The old checkpoint must match from_size.
	r = cairn(t, "", nil, "proof", "check", "--proof", consFile, "--checkpoint", ckpt, "--old-checkpoint", ckpt, "--public-key", pub)
	if line := oneErrorLine(t, r); r.code != 1 || !strings.Contains(line, "old checkpoint") {
		t.Fatalf("consistency against the wrong old checkpoint: exit %d, %q", r.code, line)
	}

	// Store errors come back as one line.
	for _, args := range [][]string{
		{"proof", "inclusion", "--data-dir", dir, "--stream", "s", "--seq", "51"},
		{"proof", "inclusion", "--data-dir", dir, "--stream", "s", "--seq", "5", "--tree-size", "60"},
		{"proof", "consistency", "--data-dir", dir, "--stream", "s", "--from-size", "30", "--to-size", "20"},
	} {
		r := cairn(t, "", nil, args...)
		if oneErrorLine(t, r); r.code != 1 {
			t.Errorf("%v: exit %d, want 1", args, r.code)
		}
	}
}

// flipBase64 changes the first character of a base64 string to another
// base64 character, keeping it decodable to the same length.
func flipBase64(s string) string {
	c := byte('A')
	if s[0] == 'A' {
		c = 'B'
	}
	return string(c) + s[1:]
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
