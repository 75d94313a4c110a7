package mysql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/cairnlog/cairn/capture"
	"github.com/cairnlog/cairn/journal"
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

// TestPositions: positions sort by ordinal then index whatever text they
// carry, a schema entry's position sorts between its neighbours and
// resumes like the entry before it, only frame entries carry the resume
// text, and older formats get what they need.
func TestPositions(t *testing.T) {
	before, after := "0-1-42,2-1-7", "0-1-43,2-1-7"
	begin := FramePosition(49, 0, before)
	sBegin := capture.SchemaPosition(begin)
	ch1 := Position(49, 1)
	sCh1 := capture.SchemaPosition(ch1)
	ch2 := Position(49, 2)
	commit := FramePosition(49, 3, after)
	next := FramePosition(50, 0, after)
	order := [][]byte{begin, sBegin, ch1, sCh1, ch2, commit, next}
	for i := 1; i < len(order); i++ {
		if string(order[i-1]) >= string(order[i]) {
			t.Fatalf("position %d does not sort after position %d", i, i-1)
		}
	}
	for _, c := range []struct {
		p    []byte
		text string
		ok   bool
	}{
		{begin, before, true}, {sBegin, before, true}, {ch1, "", false}, {sCh1, "", false}, {ch2, "", false},
		{commit, after, true}, {FramePosition(1, 0, ""), "", true},
	} {
		text, ok, err := resumeGTID(c.p)
		if err != nil || text != c.text || ok != c.ok {
			t.Errorf("resume after %q: %q %v %v, want %q %v", c.p, text, ok, err, c.text, c.ok)
		}
	}
	if len(ch1) != positionHeader {
		t.Fatalf("a change's position is %d bytes, want %d (no resume text)", len(ch1), positionHeader)
	}
	if i, err := positionIndex(ch2); err != nil || i != 2 {
		t.Fatalf("index %d %v", i, err)
	}
	old := append(make([]byte, 20), "0-1-42"...)
	if _, _, err := resumeGTID(old); err == nil || !strings.Contains(err.Error(), "new stream") {
		t.Fatalf("a first-release position: %v", err)
	}
	format1 := append(append([]byte{1}, make([]byte, 16)...), "0-1-5"...)
	if _, _, err := resumeGTID(format1); err == nil || !strings.Contains(err.Error(), "new stream") {
		t.Fatalf("a format-1 position: %v", err)
	}
	if string(old) >= string(begin) || string(format1) >= string(begin) {
		t.Fatal("first-release positions must sort before format-2 positions")
	}
	if _, _, err := resumeGTID([]byte{9, 1, 2}); err == nil || !strings.Contains(err.Error(), "upgrade") {
		t.Fatalf("a newer format: %v", err)
	}
}

// TestResumeStateReadsBack: a resume at a row finds its transaction's
// tx_begin however far back it is (across read pages), and a resume in a
// snapshot takes the stream's first entry.
func TestResumeStateReadsBack(t *testing.T) {
	const n = 10000
	recs := make([]journal.Record, n)
	for i := range recs {
		e := &recs[i].Entry
		e.Seq, e.Kind, e.TxID = uint64(i+1), journal.KindChange, "0-1-9"
		e.SourcePosition = Position(9, uint64(i))
	}
	recs[0].Kind, recs[0].TxID, recs[0].SourcePosition = journal.KindSnapshotRead, "", FramePosition(3, 1, "0-1-3")
	recs[4].Kind, recs[4].SourcePosition = journal.KindTxBegin, FramePosition(9, 0, "0-1-8")
	reads := 0
	read := func(_ context.Context, from uint64, limit int) ([]journal.Record, error) {
		reads++
		if from < 1 || limit < 1 || from+uint64(limit)-1 > n {
			return nil, fmt.Errorf("read %d+%d outside 1..%d", from, limit, n)
		}
		return recs[from-1 : from-1+uint64(limit)], nil
	}
	s := &Source{}
	for _, c := range []struct {
		last int // seq
		want string
	}{{n, "0-1-8"}, {4097, "0-1-8"}, {4096, "0-1-8"}, {6, "0-1-8"}, {5, "0-1-8"}, {1, "0-1-3"}} {
		last := recs[c.last-1].Entry
		got, err := s.resumeState(context.Background(), capture.Resume{Position: last.SourcePosition, Last: &last, Read: read})
		if err != nil || got != c.want {
			t.Errorf("resume at seq %d: %q %v, want %q", c.last, got, err, c.want)
		}
	}
	snap := recs[n-1].Entry
	snap.Kind, snap.TxID = journal.KindSnapshotRead, ""
	reads = 0
	if got, err := s.resumeState(context.Background(), capture.Resume{Position: snap.SourcePosition, Last: &snap, Read: read}); err != nil || got != "0-1-3" || reads != 1 {
		t.Errorf("resume in a snapshot: %q %v after %d reads, want the first entry's 0-1-3 in one read", got, err, reads)
	}
	// No frame at all: the journal is corrupt, and capture says so.
	recs[4].SourcePosition, recs[0].SourcePosition = Position(9, 4), Position(3, 1)
	last := recs[n-1].Entry
	if _, err := s.resumeState(context.Background(), capture.Resume{Position: last.SourcePosition, Last: &last, Read: read}); !errors.Is(err, journal.ErrCorrupt) {
		t.Errorf("no frame: %v", err)
	}
}

// TestConfigStartGTID: start_gtid takes either flavour's GTID state and
// names both forms when it is neither.
func TestConfigStartGTID(t *testing.T) {
	for _, ok := range []string{"", "beginning", "0-1-42", "0-1-42,1-1-7", "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-42"} {
		c := DefaultConfig("s", "u@tcp(h:1)/d")
		c.StartGTID = ok
		if err := c.Validate(); err != nil {
			t.Errorf("start_gtid %q: %v", ok, err)
		}
	}
	for _, bad := range []string{"now", "0-1-42,0-1-43", "3e11fa47:1-42"} {
		c := DefaultConfig("s", "u@tcp(h:1)/d")
		c.StartGTID = bad
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "neither a MariaDB GTID list") || !strings.Contains(err.Error(), "MySQL GTID set") {
			t.Errorf("start_gtid %q: %v", bad, err)
		}
	}
}
