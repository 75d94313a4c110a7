package journal

import (
	"encoding/hex"
	"fmt"
	"regexp"
	"time"
)

// HashSize is the size in bytes of an entry hash (SHA-256).
const HashSize = 32

// Hash is the SHA-256 hash of an entry, or a Merkle tree node.
type Hash [HashSize]byte

// String returns the hash as lowercase hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is the all-zero hash (the genesis prev_hash).
func (h Hash) IsZero() bool { return h == Hash{} }

// ParseHash parses a lowercase or uppercase hex hash.
func ParseHash(s string) (Hash, error) {
	var h Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != HashSize {
		return h, fmt.Errorf("%w: %q is not 64 hex characters", ErrBadHash, s)
	}
	copy(h[:], b)
	return h, nil
}

// Kind says what an entry records.
type Kind uint8

// Entry kinds. The numeric values are part of the canonical encoding and never change.
const (
	KindChange       Kind = 1
	KindTxBegin      Kind = 2
	KindTxCommit     Kind = 3
	KindSchema       Kind = 4
	KindSnapshotRead Kind = 5
	KindHeartbeat    Kind = 6
	KindAppEvent     Kind = 7
	KindGap          Kind = 8
	KindCheckpoint   Kind = 9
)

var kindNames = map[Kind]string{
	KindChange: "change", KindTxBegin: "tx_begin", KindTxCommit: "tx_commit", KindSchema: "schema",
	KindSnapshotRead: "snapshot_read", KindHeartbeat: "heartbeat", KindAppEvent: "app_event",
	KindGap: "gap", KindCheckpoint: "checkpoint",
}

// String returns the kind's name as used in JSON and on the command line.
func (k Kind) String() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { _, ok := kindNames[k]; return ok }

// ParseKind maps a kind name back to its value.
func ParseKind(s string) (Kind, error) {
	for k, n := range kindNames {
		if n == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown kind %q (want one of change, tx_begin, tx_commit, schema, snapshot_read, heartbeat, app_event, gap, checkpoint)", ErrInvalidEntry, s)
}

// Op is the row operation of a change entry.
type Op uint8

// Row operations. OpNone is for entries that are not row changes.
const (
	OpNone     Op = 0
	OpInsert   Op = 1
	OpUpdate   Op = 2
	OpDelete   Op = 3
	OpTruncate Op = 4
	OpDDL      Op = 5
)

var opNames = map[Op]string{OpNone: "", OpInsert: "insert", OpUpdate: "update", OpDelete: "delete", OpTruncate: "truncate", OpDDL: "ddl"}

// String returns the op's name ("" for OpNone).
func (o Op) String() string {
	if n, ok := opNames[o]; ok {
		return n
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// Valid reports whether o is a known op.
func (o Op) Valid() bool { _, ok := opNames[o]; return ok }

// ParseOp maps an op name back to its value.
func ParseOp(s string) (Op, error) {
	for o, n := range opNames {
		if n == s {
			return o, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown op %q (want insert, update, delete, truncate or ddl)", ErrInvalidEntry, s)
}

// Entry is one journal entry. Every field except RecordedAt is hashed; see doc.go
// for the canonical byte layout.
type Entry struct {
	Stream            string
	Seq               uint64
	PrevHash          Hash
	Kind              Kind
	SourceID          string
	SourcePosition    []byte // opaque, compared bytewise; see Store.Append
	TxID              string
	CommitTime        time.Time // from the source; zero when there is none
	Table             string
	Op                Op
	Key               []byte
	Before            []byte
	After             []byte
	SchemaFingerprint []byte
	ProducerID        string
	ProducerSeq       uint64
	Payload           []byte
	Metadata          map[string]string

	// RecordedAt is the local time the entry was appended. It is stored beside
	// the entry and is NOT hashed, so it may differ between two journals that
	// are otherwise byte-identical.
	RecordedAt time.Time
}

// Record is an entry as read back from a store, with its hash.
type Record struct {
	Entry
	Hash Hash
}

// Head describes the end of a stream.
type Head struct {
	Stream string
	Seq    uint64 // last seq, 0 for an empty stream
	Hash   Hash   // hash of entry Seq (zero for an empty stream)
	Root   Hash   // Merkle root over entries 1..Seq
}

// TreeSize is the number of leaves in the stream's Merkle tree (equal to Seq).
func (h Head) TreeSize() uint64 { return h.Seq }

// AppendResult says where an appended entry landed.
type AppendResult struct {
	Seq       uint64
	Duplicate bool // true when the entry was already in the journal; Seq is the original
}

var streamNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ValidateStreamName checks that name is usable as a stream name: 1 to 128
// characters of letters, digits, '.', '_' and '-', starting with a letter or digit.
func ValidateStreamName(name string) error {
	if !streamNameRE.MatchString(name) {
		return fmt.Errorf("%w: %q (use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit)", ErrBadStreamName, name)
	}
	return nil
}

// ValidateAppend checks what every Store requires of an entry appended to
// stream, whatever its backend: no other stream named, a known kind and
// op, a producer id of at most 1024 bytes. Stores add their own size limit.
func ValidateAppend(stream string, e *Entry) error {
	if e.Stream != "" && e.Stream != stream {
		return fmt.Errorf("%w: entry names stream %q, appended to %q", ErrInvalidEntry, e.Stream, stream)
	}
	if !e.Kind.Valid() {
		return fmt.Errorf("%w: unknown kind %d", ErrInvalidEntry, e.Kind)
	}
	if !e.Op.Valid() {
		return fmt.Errorf("%w: unknown op %d", ErrInvalidEntry, e.Op)
	}
	if len(e.ProducerID) > 1024 {
		return fmt.Errorf("%w: producer id is %d bytes (max 1024)", ErrInvalidEntry, len(e.ProducerID))
	}
	return nil
}
