package state

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestUpdateScanReopen(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var puts []KV
	for i := 0; i < 10; i++ {
		puts = append(puts, KV{Key: []byte(fmt.Sprintf("g/a/%02d", i)), Value: []byte{byte(i)}})
	}
	puts = append(puts, KV{Key: []byte("g/b/00"), Value: []byte("other")})
	if err := db.Update(puts, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(nil, [][]byte{[]byte("g/a/03")}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// A crash leftover must not stop the reopen (see Open).
	if err := os.WriteFile(filepath.Join(dir, "09999.mem"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err = Open(dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got []string
	if err := db.Scan([]byte("g/a/"), func(k, v []byte) error {
		got = append(got, fmt.Sprintf("%s=%d", k, v[0]))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := "[g/a/00=0 g/a/01=1 g/a/02=2 g/a/04=4 g/a/05=5 g/a/06=6 g/a/07=7 g/a/08=8 g/a/09=9]"
	if fmt.Sprint(got) != want {
		t.Fatalf("scan = %v, want %v", got, want)
	}
	v, err := db.Get([]byte("g/b/00"))
	if err != nil || string(v) != "other" {
		t.Fatalf("get = %q, %v", v, err)
	}
	if v, err := db.Get([]byte("g/a/03")); err != nil || v != nil {
		t.Fatalf("deleted key = %q, %v", v, err)
	}
}

func TestScanFromAndClosed(t *testing.T) {
	db, err := Open(t.TempDir(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var puts []KV
	for i := 0; i < 20; i++ {
		puts = append(puts, KV{Key: []byte(fmt.Sprintf("d/%03d", i)), Value: []byte{1}})
	}
	if err := db.Update(puts, nil); err != nil {
		t.Fatal(err)
	}
	var got []string
	_ = db.ScanFrom([]byte("d/"), []byte("d/015"), func(k, _ []byte) error { got = append(got, string(k)); return nil })
	if fmt.Sprint(got) != "[d/015 d/016 d/017 d/018 d/019]" {
		t.Fatalf("ScanFrom = %v", got)
	}
	db.Close()
	if err := db.Update(puts, nil); err != ErrClosed {
		t.Fatalf("update after close = %v, want ErrClosed", err)
	}
	if _, err := db.Get([]byte("d/001")); err != ErrClosed {
		t.Fatalf("get after close = %v", err)
	}
}
