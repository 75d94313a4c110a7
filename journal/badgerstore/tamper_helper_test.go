package badgerstore

import (
	"path/filepath"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// flipStoredByte flips one byte of an entry record straight in Badger,
// bypassing the store, the way an attacker with disk access would.
func flipStoredByte(t *testing.T, dir string, id uint32, seq uint64, off func([]byte) int) {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(filepath.Join(dir, "journal")).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(entryKey(id, seq))
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		v[off(v)] ^= 0x01
		return txn.Set(entryKey(id, seq), v)
	})
	if err != nil {
		t.Fatal(err)
	}
}
