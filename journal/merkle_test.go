package journal

import (
	"crypto/sha256"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

type memHashes map[int64]tlog.Hash

func (m memHashes) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		out[i] = m[x]
	}
	return out, nil
}

// TestCompactRangeMatchesTlog checks our incremental edge against tlog's own
// StoredHashes and TreeHash for every size up to 300.
func TestCompactRangeMatchesTlog(t *testing.T) {
	stored := memHashes{}
	var c CompactRange
	for n := int64(0); n < 300; n++ {
		entry := Hash(sha256.Sum256([]byte{byte(n), byte(n >> 8)}))
		want, err := tlog.StoredHashes(n, entry[:], stored)
		if err != nil {
			t.Fatal(err)
		}
		got := c.Append(entry, nil)
		if len(got) != len(want) {
			t.Fatalf("leaf %d: %d stored hashes, tlog has %d", n, len(got), len(want))
		}
		for i := range want {
			if Hash(want[i]) != got[i] {
				t.Fatalf("leaf %d level %d differs from tlog", n, i)
			}
			stored[tlog.StoredHashIndex(0, n)+int64(i)] = want[i]
			idx := tlog.StoredHashIndex(0, n) + int64(i)
			if leaf, level := LeafForStoredHash(idx); leaf != uint64(n) || level != i {
				t.Fatalf("stored index %d maps to leaf %d level %d, want %d %d", idx, leaf, level, n, i)
			}
		}
		root, _ := tlog.TreeHash(n+1, stored)
		if c.Root() != Hash(root) {
			t.Fatalf("size %d: root differs from tlog", n+1)
		}
		re, err := NewCompactRange(uint64(n+1), stored)
		if err != nil || re.Root() != c.Root() {
			t.Fatalf("size %d: rebuilt edge differs: %v", n+1, err)
		}
	}
}
