package mysql

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/cairnlog/cairn/capture"
)

func mariaTx(t *testing.T, s string) txGTID {
	t.Helper()
	st, err := parseGTIDState(flavorMariaDB, s)
	if err != nil || len(st.domains) != 1 {
		t.Fatalf("GTID %q: %v", s, err)
	}
	for _, g := range st.domains {
		return txGTID{maria: g}
	}
	return txGTID{}
}

// TestMariaDBStateOrdinal: the ordinal rises with every transaction however
// domains interleave, and the same GTIDs give the same ordinals and text
// from any resume point.
func TestMariaDBStateOrdinal(t *testing.T) {
	st, err := parseGTIDState(flavorMariaDB, "2-1-7, 0-1-42")
	if err != nil {
		t.Fatal(err)
	}
	if st.String() != "0-1-42,2-1-7" || st.ordinal != 49 {
		t.Fatalf("state %q ordinal %d, want canonical 0-1-42,2-1-7 and 49", st.String(), st.ordinal)
	}
	prev := st.ordinal
	for _, g := range []string{"0-1-43", "2-1-8", "5-3-1", "0-2-44", "2-1-100"} {
		tx := mariaTx(t, g)
		o, err := st.next(tx)
		if err != nil || o <= prev {
			t.Fatalf("%s: ordinal %d after %d (%v)", g, o, prev, err)
		}
		if err := st.apply(tx); err != nil || st.ordinal != o {
			t.Fatal(err)
		}
		prev = o
		again, err := parseGTIDState(flavorMariaDB, st.String())
		if err != nil || again.ordinal != st.ordinal || again.String() != st.String() {
			t.Fatalf("state %q does not survive its own text: %q %d", st.String(), again.String(), again.ordinal)
		}
	}
	if st.String() != "0-2-44,2-1-100,5-3-1" {
		t.Fatalf("state %q", st.String())
	}
	_, err = st.next(mariaTx(t, "2-1-100"))
	if !errors.Is(err, ErrGTIDOrder) || !strings.Contains(err.Error(), "gtid_strict_mode=ON") {
		t.Fatalf("a repeated sequence number: %v", err)
	}
	for _, bad := range []string{"0-1", "0-1-2,0-1-3", "x"} {
		if _, err := parseGTIDState(flavorMariaDB, bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestMySQLStateOrdinal: a MySQL GTID set counts its transactions; each
// new GTID adds one, a GTID the set holds is refused, and the text is
// canonical (UUIDs sorted, intervals merged).
func TestMySQLStateOrdinal(t *testing.T) {
	a := "3e11fa47-71ca-11e1-9e33-c80aa9429562"
	b := "0a11fa47-71ca-11e1-9e33-c80aa9429562"
	st, err := parseGTIDState(flavorMySQL, a+":1-5:7-9,\n"+b+":1-2")
	if err != nil {
		t.Fatal(err)
	}
	if st.ordinal != 10 || st.String() != b+":1-2,"+a+":1-5:7-9" {
		t.Fatalf("state %q ordinal %d", st.String(), st.ordinal)
	}
	tx := txGTID{sid: uuid.MustParse(a), gno: 6}
	if tx.String(flavorMySQL) != a+":6" {
		t.Fatalf("GTID text %q", tx.String(flavorMySQL))
	}
	if err := st.apply(tx); err != nil || st.ordinal != 11 || st.String() != b+":1-2,"+a+":1-9" {
		t.Fatalf("after %s: %q %d %v", a+":6", st.String(), st.ordinal, err)
	}
	if _, err := st.next(txGTID{sid: uuid.MustParse(a), gno: 3}); !errors.Is(err, ErrGTIDOrder) {
		t.Fatalf("a GTID already executed: %v", err)
	}
	empty, err := parseGTIDState(flavorMySQL, "")
	if err != nil || empty.ordinal != 0 || empty.String() != "" {
		t.Fatalf("empty set: %q %d %v", empty.String(), empty.ordinal, err)
	}
	if err := empty.apply(txGTID{sid: uuid.MustParse(b), gno: 1}); err != nil || empty.String() != b+":1" || empty.ordinal != 1 {
		t.Fatalf("first GTID: %q %d %v", empty.String(), empty.ordinal, err)
	}
	if _, err := parseGTIDState(flavorMySQL, "0-1-2"); err == nil {
		t.Error("a MariaDB GTID parsed as a MySQL set")
	}
}

// TestPositions: positions sort by ordinal then index, a schema entry's
// position sorts between its neighbours and resumes like the entry before
// it, and positions of the first release get an error that says what to do.
func TestPositions(t *testing.T) {
	p1 := Position(49, 0, "0-1-42,2-1-7")
	s1 := capture.SchemaPosition(p1)
	p2 := Position(49, 1, "0-1-42,2-1-7")
	p3 := Position(50, 0, "0-1-43,2-1-7")
	if !(string(p1) < string(s1) && string(s1) < string(p2) && string(p2) < string(p3)) {
		t.Fatal("positions do not sort in capture order")
	}
	for _, p := range [][]byte{p1, s1, p2} {
		if g, err := resumeGTID(p); err != nil || g != "0-1-42,2-1-7" {
			t.Fatalf("resume after %q: %q %v", p, g, err)
		}
	}
	if i, err := positionIndex(p2); err != nil || i != 1 {
		t.Fatalf("index %d %v", i, err)
	}
	old := append(make([]byte, 20), "0-1-42"...)
	if _, err := resumeGTID(old); err == nil || !strings.Contains(err.Error(), "new stream") {
		t.Fatalf("a first-release position: %v", err)
	}
	if string(old) >= string(p1) {
		t.Fatal("first-release positions must sort before format-1 positions")
	}
	if _, err := resumeGTID([]byte{9, 1, 2}); err == nil || !strings.Contains(err.Error(), "upgrade") {
		t.Fatalf("a newer format: %v", err)
	}
}
