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
	"github.com/google/uuid"
)

// ErrGTIDOrder: a transaction's GTID does not come after the GTID state
// the binlog reached so far (a sequence number that goes back within a
// MariaDB domain, a MySQL GTID already executed). Positions would stop
// rising, and a re-sent change could no longer be told from a new one.
var ErrGTIDOrder = errors.New("binlog GTID out of order")

// Flavours of GTID, chosen from the server's version at Start.
const (
	flavorMariaDB = gomysql.MariaDBFlavor
	flavorMySQL   = gomysql.MySQLFlavor
)

// gtidState is where the binlog stands: for MariaDB the last GTID per
// replication domain (what @@gtid_binlog_pos shows), for MySQL the set of
// executed GTIDs (@@gtid_executed). It is the resume point that a
// position carries as text, and it gives every transaction an ordinal.
//
// The ordinal rises by at least one with every transaction, in binlog
// order, and is computed from the GTIDs alone, so the same binlog gives
// the same ordinals on every run, from every resume point, on every
// replica with the same binlog:
//   - MariaDB: the sum of the sequence numbers of all domains. Each
//     transaction raises exactly one domain's sequence number (MariaDB
//     keeps them rising within a domain), however the domains interleave.
//   - MySQL: the number of GTIDs in the executed set. Each transaction adds
//     one GTID the set does not hold.
type gtidState struct {
	flavor  string
	domains map[uint32]gomysql.MariadbGTID // MariaDB
	set     gomysql.MysqlGTIDSet           // MySQL
	ordinal uint64
}

// txGTID is one transaction's GTID.
type txGTID struct {
	maria gomysql.MariadbGTID // MariaDB
	sid   uuid.UUID           // MySQL: source UUID, tag, transaction number
	tag   gomysql.Tag
	gno   int64
}

func (g txGTID) String(flavor string) string {
	if flavor == flavorMySQL {
		if g.tag.String() != "" {
			return g.sid.String() + ":" + g.tag.String() + ":" + strconv.FormatInt(g.gno, 10)
		}
		return g.sid.String() + ":" + strconv.FormatInt(g.gno, 10)
	}
	return g.maria.String()
}

// parseGTIDState parses a GTID state of flavor: a MariaDB GTID list
// ("0-1-42,2-1-7") or a MySQL GTID set ("uuid:1-42,uuid2:1-7"); "" is
// the empty state.
func parseGTIDState(flavor, s string) (gtidState, error) {
	st := gtidState{flavor: flavor}
	s = strings.TrimSpace(s)
	if flavor == flavorMySQL {
		set, err := gomysql.ParseMysqlGTIDSet(strings.ReplaceAll(s, "\n", ""))
		if err != nil {
			return st, fmt.Errorf("GTID set %q: %w", s, err)
		}
		st.set = *set.(*gomysql.MysqlGTIDSet)
		for _, tags := range st.set {
			for _, ivs := range tags {
				for _, iv := range ivs {
					st.ordinal += uint64(iv.Stop - iv.Start)
				}
			}
		}
		return st, nil
	}
	st.domains = map[uint32]gomysql.MariadbGTID{}
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

// String is the canonical text of the state: MariaDB domains in ascending
// order, MySQL UUIDs in ascending order with merged intervals. It is part
// of every position, so it must not depend on map order.
func (st gtidState) String() string {
	if st.flavor == flavorMySQL {
		return st.set.String()
	}
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
// applying it. A MariaDB sequence number at or below its domain's current
// one, or a MySQL GTID the set holds already, is ErrGTIDOrder.
func (st gtidState) next(g txGTID) (uint64, error) {
	if st.flavor == flavorMySQL {
		if ivs, ok := st.set[g.sid][g.tag]; ok {
			for _, iv := range ivs {
				if g.gno >= iv.Start && g.gno < iv.Stop {
					return 0, fmt.Errorf("%w: transaction %s is in the executed GTID set already (%s)", ErrGTIDOrder, g.String(st.flavor), st.String())
				}
			}
		}
		return st.ordinal + 1, nil
	}
	cur, ok := st.domains[g.maria.DomainID]
	if ok && g.maria.SequenceNumber <= cur.SequenceNumber {
		return 0, fmt.Errorf("%w: transaction %s follows %s in domain %d. Sequence numbers must rise within a domain: "+
			"set gtid_strict_mode=ON on the server. The journal keeps everything up to %s", ErrGTIDOrder, g.maria.String(), cur.String(), g.maria.DomainID, st.String())
	}
	return st.ordinal - cur.SequenceNumber + g.maria.SequenceNumber, nil
}

// apply moves the state past a transaction with GTID g.
func (st *gtidState) apply(g txGTID) error {
	o, err := st.next(g)
	if err != nil {
		return err
	}
	if st.flavor == flavorMySQL {
		if st.set == nil {
			st.set = gomysql.NewMysqlGTIDSet()
		}
		st.set.AddGTIDWithTag(g.sid, g.tag, g.gno)
	} else {
		if st.domains == nil {
			st.domains = map[uint32]gomysql.MariadbGTID{}
		}
		st.domains[g.maria.DomainID] = g.maria
	}
	st.ordinal = o
	return nil
}

// syncSet is the GTID set to hand BinlogSyncer.StartSyncGTID.
func (st gtidState) syncSet() (gomysql.GTIDSet, error) {
	if st.flavor == flavorMySQL {
		return gomysql.ParseMysqlGTIDSet(st.String())
	}
	return gomysql.ParseMariadbGTIDSet(st.String())
}

// Positions (format 2) are a format byte, the transaction's ordinal (8
// bytes) and the entry's index in the transaction (8 bytes), big-endian.
// Frame entries add the text of the GTID state to resume after, behind a
// 'T' byte: tx_begin the state before its transaction, tx_commit the state
// including it, and the first entry of an initial snapshot the state the
// snapshot matches. Changes carry no text: a MySQL GTID set can hold many
// server UUIDs, and repeating it on every row would cost more than the
// row. A capture that resumes at a change reads back to its tx_begin
// (Resume.Read); one that resumes in a snapshot reads the stream's first
// entry. Bytewise order is binlog order; the text never decides it.
//
// Format 1, used for a few hours while this was built, carried the text
// on every entry; like the first release's 20-byte positions (domain,
// sequence number, index), it is refused with a request for a new stream
// (resuming one mid-transaction in format 2 would journal part of the
// transaction twice). The format byte sorts format 2 after both.
const (
	positionFormat = 2
	positionHeader = 17
	positionText   = 'T'
)

// Position builds the position of an entry without resume text.
func Position(ordinal, index uint64) []byte {
	b := make([]byte, positionHeader, positionHeader+1)
	b[0] = positionFormat
	binary.BigEndian.PutUint64(b[1:], ordinal)
	binary.BigEndian.PutUint64(b[9:], index)
	return b
}

// FramePosition builds the position of an entry that carries the GTID
// state text to resume after.
func FramePosition(ordinal, index uint64, resumeAfter string) []byte {
	b := make([]byte, positionHeader, positionHeader+1+len(resumeAfter))
	b[0] = positionFormat
	binary.BigEndian.PutUint64(b[1:], ordinal)
	binary.BigEndian.PutUint64(b[9:], index)
	b = append(b, positionText)
	return append(b, resumeAfter...)
}

// positionIndex returns a position's index field.
func positionIndex(p []byte) (uint64, error) {
	if len(p) < positionHeader || p[0] != positionFormat {
		return 0, errPositionFormat(p)
	}
	return binary.BigEndian.Uint64(p[9:17]), nil
}

// resumeGTID returns the GTID state text a position says to resume after,
// and whether it carries one. A schema entry's position (the entry before
// it plus one byte) says the same as that entry's, so that byte is dropped.
func resumeGTID(p []byte) (text string, ok bool, err error) {
	if len(p) < positionHeader || p[0] != positionFormat {
		return "", false, errPositionFormat(p)
	}
	rest := string(p[positionHeader:])
	if rest == "" || rest == string(rune(capture.SchemaPositionMark)) {
		return "", false, nil
	}
	if rest[0] != positionText {
		return "", false, fmt.Errorf("MariaDB/MySQL position of %d bytes with %q after its header", len(p), rest[0])
	}
	return strings.TrimSuffix(rest[1:], string(rune(capture.SchemaPositionMark))), true, nil
}

func errPositionFormat(p []byte) error {
	if len(p) > 0 && p[0] > positionFormat && p[0] != 0 {
		return fmt.Errorf("position format %d is newer than this Cairn (format %d): upgrade cairnd", p[0], positionFormat)
	}
	if len(p) == 20 || len(p) > 20 && p[0] == 0 || len(p) >= positionHeader && p[0] == 1 {
		return fmt.Errorf("the stream was written by an earlier Cairn (MariaDB position format %d); capture it into a new stream", min(p[0], 1))
	}
	return fmt.Errorf("not a MariaDB/MySQL position of format %d (%d bytes)", positionFormat, len(p))
}
