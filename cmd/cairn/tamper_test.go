package main

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// Badger key layout of journal/badgerstore (layout.go), restated here so the
// test can damage a journal the way a disk or an attacker would.
const firstStreamID = 1

func testEntryKey(seq uint64) []byte {
	k := []byte{'E', 0, 0, 0, 0}
	binary.BigEndian.PutUint32(k[1:], firstStreamID)
	return binary.BigEndian.AppendUint64(k, seq)
}

func testHeadKey() []byte {
	k := []byte{'H', 0, 0, 0, 0}
	binary.BigEndian.PutUint32(k[1:], firstStreamID)
	return k
}

// withBadger opens the data dir's Badger DB directly and runs fn in one update.
func withBadger(t *testing.T, dir string, fn func(txn *badger.Txn) error) {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(filepath.Join(dir, "journal")).WithLogger(nil))
	if err != nil {
		t.Fatalf("open badger: %v", err)
	}
	if err := db.Update(fn); err != nil {
		db.Close()
		t.Fatalf("badger update: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("close badger: %v", err)
	}
}

func getValue(t *testing.T, txn *badger.Txn, key []byte) []byte {
	t.Helper()
	item, err := txn.Get(key)
	if err != nil {
		t.Fatalf("get %x: %v", key, err)
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		t.Fatalf("value %x: %v", key, err)
	}
	return v
}

// journalOf100 appends 100 events and checks that verify passes (the store
// signs a checkpoint at the head when the append closes it).
func journalOf100(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	appendEvents(t, dir, "ledger", events(1, 100, simplePayload), 1)
	out := mustCairn(t, "", "verify", "--data-dir", dir)
	if !strings.Contains(out, "verified 100 entries") || !strings.Contains(out, "checkpoint size 100") {
		t.Fatalf("verify before tampering:\n%s", out)
	}
	return dir
}

func TestVerifyDetectsFlippedPayloadByte(t *testing.T) {
	t.Parallel()
	dir := journalOf100(t)
	withBadger(t, dir, func(txn *badger.Txn) error {
		// The record header (format, time, Merkle node hashes) precedes the
		// entry bytes; the payload marker only occurs in the entry bytes.
		v := getValue(t, txn, testEntryKey(42))
		i := bytes.Index(v, []byte("seq-0042"))
		if i < 0 {
			t.Fatalf("payload marker of seq 42 not found in its record")
		}
		v[i+len("seq-00")] ^= 0x01 // "42" -> "52"
		return txn.Set(testEntryKey(42), v)
	})
	r := cairn(t, "", nil, "verify", "--data-dir", dir)
	line := oneErrorLine(t, r)
	t.Log(line)
	if r.code != 1 || !strings.Contains(line, "verify failed") || !strings.Contains(line, "stream ledger") || !strings.Contains(line, "seq 42") {
		t.Fatalf("exit %d, stderr %q; want exit 1 naming stream ledger and seq 42", r.code, line)
	}
	if r.stdout != "" {
		t.Fatalf("verify printed %q on failure", r.stdout)
	}
}

func TestVerifyDetectsDeletedLastEntry(t *testing.T) {
	t.Parallel()
	dir := journalOf100(t)
	withBadger(t, dir, func(txn *badger.Txn) error { return txn.Delete(testEntryKey(100)) })
	r := cairn(t, "", nil, "verify", "--data-dir", dir)
	line := oneErrorLine(t, r)
	t.Log(line)
	if r.code != 1 || !strings.Contains(line, "verify failed") || !strings.Contains(line, "ledger") || !strings.Contains(line, "100") {
		t.Fatalf("exit %d, stderr %q; want exit 1 naming stream ledger and seq 100", r.code, line)
	}
}

// A truncation that also rewrites the head consistently is only caught by the
// signed checkpoint.
func TestVerifyDetectsTruncationAgainstCheckpoint(t *testing.T) {
	t.Parallel()
	dir := journalOf100(t)
	recs := tailJSONLines(t, "--data-dir", dir, "--stream", "ledger", "--from", "99", "--limit", "1")
	hash99, err := hex.DecodeString(recs[0]["hash"].(string))
	if err != nil || len(hash99) != 32 {
		t.Fatalf("hash of seq 99: %v %v", recs[0]["hash"], err)
	}
	withBadger(t, dir, func(txn *badger.Txn) error {
		// Head record: u64 seq, [32] hash, u32 high-water length, high-water.
		head := binary.BigEndian.AppendUint64(nil, 99)
		head = append(head, hash99...)
		head = binary.BigEndian.AppendUint32(head, 0)
		if err := txn.Set(testHeadKey(), head); err != nil {
			return err
		}
		return txn.Delete(testEntryKey(100))
	})
	r := cairn(t, "", nil, "verify", "--data-dir", dir, "--stream", "ledger")
	line := oneErrorLine(t, r)
	t.Log(line)
	if r.code != 1 || !strings.Contains(line, "stream ledger") || !strings.Contains(line, "checkpoint") || !strings.Contains(line, "seq 100") {
		t.Fatalf("exit %d, stderr %q; want exit 1 naming stream ledger, seq 100 and the checkpoint", r.code, line)
	}
}
