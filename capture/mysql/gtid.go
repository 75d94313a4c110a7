package mysql

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cairnlog/cairn/capture"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
)

// ErrGTIDOrder: a transaction's GTID does not come after the GTID state
// the binlog reached so far (a sequence number that goes back within a
// MariaDB domain, a MySQL GTID already executed). Positions would stop
// rising, and a re-sent change could no longer be told from a new one.
var ErrGTIDOrder = errors.New("binlog GTID out of order")

// gtidState is where the binlog stands: MariaDB's last GTID per replication
// domain (what @@gtid_binlog_pos shows). It is the resume point that a
// position carries as text, and it gives every transaction an ordinal.
//
// The ordinal is the sum of the sequence numbers of all domains. Each
// transaction raises exactly one domain's sequence number (MariaDB keeps
// them rising within a domain), so the sum rises with every transaction in
// binlog order, however the domains interleave, and it is computed from
// the GTIDs alone: the same binlog gives the same ordinals on every run,
// from every resume point, on every replica with the same binlog.
type gtidState struct {
	domains map[uint32]gomysql.MariadbGTID
	ordinal uint64
}

// parseGTIDState parses a MariaDB GTID list ("0-1-42,2-1-7", "" for none).
func parseGTIDState(s string) (gtidState, error) {
	st := gtidState{domains: map[uint32]gomysql.MariadbGTID{}}
	s = strings.TrimSpace(s)
	if s == "" {
		return st, nil
	}
	for _, part := range strings.Split(s, ",") {
		g, err := gomysql.ParseMariadbGTID(strings.TrimSpace(part))
		if err != nil {
			return st, fmt.Errorf("GTID %q: %w", part, err)
		}
		if _, dup := st.domains[g.DomainID]; dup {
			return st, fmt.Errorf("GTID list %q names domain %d twice", s, g.DomainID)
		}
		st.domains[g.DomainID] = *g
		st.ordinal += g.SequenceNumber
	}
	return st, nil
}

// String is the canonical text of the state: domains in ascending order.
// It is part of every position, so it must not depend on map order.
func (st gtidState) String() string {
	ids := make([]uint32, 0, len(st.domains))
	for d := range st.domains {
		ids = append(ids, d)
	}
	slices.Sort(ids)
	var b []byte
	for i, d := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		g := st.domains[d]
		b = strconv.AppendUint(b, uint64(g.DomainID), 10)
		b = append(b, '-')
		b = strconv.AppendUint(b, uint64(g.ServerID), 10)
		b = append(b, '-')
		b = strconv.AppendUint(b, g.SequenceNumber, 10)
	}
	return string(b)
}

// next returns the ordinal a transaction with GTID g gets, without
// applying it. A sequence number at or below its domain's current one is
// ErrGTIDOrder.
func (st gtidState) next(g gomysql.MariadbGTID) (uint64, error) {
	cur, ok := st.domains[g.DomainID]
	if ok && g.SequenceNumber <= cur.SequenceNumber {
		return 0, fmt.Errorf("%w: transaction %s follows %s in domain %d. Sequence numbers must rise within a domain: "+
			"set gtid_strict_mode=ON on the server. The journal keeps everything up to %s", ErrGTIDOrder, g.String(), cur.String(), g.DomainID, st.String())
	}
	return st.ordinal - cur.SequenceNumber + g.SequenceNumber, nil
}

// apply moves the state past a transaction with GTID g.
func (st *gtidState) apply(g gomysql.MariadbGTID) error {
	o, err := st.next(g)
	if err != nil {
		return err
	}
	if st.domains == nil {
		st.domains = map[uint32]gomysql.MariadbGTID{}
	}
	st.domains[g.DomainID], st.ordinal = g, o
	return nil
}

// Positions (format 1) are a format byte, the transaction's ordinal (8
// bytes), the entry's index in the transaction (8 bytes), big-endian, and
// the text of the GTID state to resume after: the state including the
// transaction on its tx_commit, the state before it on every other entry.
// Bytewise order is binlog order. The format byte sorts every format-1
// position after the 20-byte positions of the first release (domain,
// sequence number, index), which began with a domain id's zero high byte.
const (
	positionFormat = 1
	positionHeader = 17
)

// Position builds a source position (see above).
func Position(ordinal, index uint64, resumeAfter string) []byte {
	b := make([]byte, positionHeader, positionHeader+len(resumeAfter))
	b[0] = positionFormat
	binary.BigEndian.PutUint64(b[1:], ordinal)
	binary.BigEndian.PutUint64(b[9:], index)
	return append(b, resumeAfter...)
}

// positionIndex returns a position's index field.
func positionIndex(p []byte) (uint64, error) {
	if len(p) < positionHeader || p[0] != positionFormat {
		return 0, errPositionFormat(p)
	}
	return binary.BigEndian.Uint64(p[9:17]), nil
}

// resumeGTID returns the GTID state text a position says to resume after.
// A schema entry's position (the entry before it plus one byte) says the
// same as that entry's, so its last byte is dropped.
func resumeGTID(p []byte) (string, error) {
	if len(p) < positionHeader || p[0] != positionFormat {
		return "", errPositionFormat(p)
	}
	text := string(p[positionHeader:])
	if strings.HasSuffix(text, string(rune(capture.SchemaPositionMark))) {
		text = text[:len(text)-1]
	}
	return text, nil
}

func errPositionFormat(p []byte) error {
	if len(p) == 20 || len(p) > 20 && p[0] == 0 {
		return fmt.Errorf("the stream was written by an earlier Cairn (20-byte MariaDB positions); capture it into a new stream")
	}
	return fmt.Errorf("not a MariaDB position of format %d (%d bytes)", positionFormat, len(p))
}
