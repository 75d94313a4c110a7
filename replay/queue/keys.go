package queue

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Durable key layout in the state store (stream and group names never hold
// 0x00; seq is 8 bytes big-endian so keys sort by seq):
//
//	q/m/<stream> 0x00 <group>            meta: ack floor, next seq, tallies
//	q/e/<stream> 0x00 <group> 0x00 <seq> one entry at or above the floor that was leased at least once
//	q/d/<stream> 0x00 <group> 0x00 <seq> one dead letter (kept until the group is deleted)
//
// Values start with a format version byte (1). See docs/queues.md.
const formatV1 = 1

func groupsPrefix(stream string) []byte {
	return append([]byte("q/m/"+stream), 0)
}

func metaKey(stream, group string) []byte {
	return append(groupsPrefix(stream), group...)
}

func entryPrefix(stream, group string) []byte {
	return append([]byte("q/e/"+stream+"\x00"+group), 0)
}

func deadPrefix(stream, group string) []byte {
	return append([]byte("q/d/"+stream+"\x00"+group), 0)
}

func seqKey(prefix []byte, seq uint64) []byte {
	k := make([]byte, len(prefix), len(prefix)+8)
	copy(k, prefix)
	return binary.BigEndian.AppendUint64(k, seq)
}

// seqOfKey returns the seq at the end of a key under prefix.
func seqOfKey(prefix, key []byte) (uint64, error) {
	if len(key) != len(prefix)+8 {
		return 0, fmt.Errorf("%w: key %q is not %d bytes", ErrCorruptState, key, len(prefix)+8)
	}
	return binary.BigEndian.Uint64(key[len(prefix):]), nil
}

// meta is the per-group record: every seq below floor is finished; seqs in
// [floor, next) have been admitted; next is the first seq not yet admitted.
type meta struct {
	floor, next  uint64
	acked, dead  uint64 // lifetime tallies
	createdNanos int64
}

// [1 version][8 floor][8 next][8 acked][8 dead][8 created unix nanos]
func (m meta) encode() []byte {
	b := make([]byte, 0, 41)
	b = append(b, formatV1)
	b = binary.BigEndian.AppendUint64(b, m.floor)
	b = binary.BigEndian.AppendUint64(b, m.next)
	b = binary.BigEndian.AppendUint64(b, m.acked)
	b = binary.BigEndian.AppendUint64(b, m.dead)
	return binary.BigEndian.AppendUint64(b, uint64(m.createdNanos))
}

func decodeMeta(b []byte) (meta, error) {
	if len(b) != 41 || b[0] != formatV1 {
		return meta{}, fmt.Errorf("%w: group meta is %d bytes with version %d, want 41 bytes with version 1", ErrCorruptState, len(b), first(b))
	}
	m := meta{
		floor:        binary.BigEndian.Uint64(b[1:]),
		next:         binary.BigEndian.Uint64(b[9:]),
		acked:        binary.BigEndian.Uint64(b[17:]),
		dead:         binary.BigEndian.Uint64(b[25:]),
		createdNanos: int64(binary.BigEndian.Uint64(b[33:])),
	}
	if m.floor == 0 || m.next < m.floor {
		return meta{}, fmt.Errorf("%w: group meta has floor %d and next %d (want 1 <= floor <= next)", ErrCorruptState, m.floor, m.next)
	}
	return m, nil
}

// Entry statuses as stored.
const (
	statusOpen  byte = 1 // unfinished: leased, or waiting for redelivery
	statusAcked byte = 2
	statusDead  byte = 3
)

// entryRec is the durable state of one entry at or above the floor.
type entryRec struct {
	status    byte
	attempt   uint32    // deliveries started so far
	notBefore time.Time // nack delay; zero when none
	deadline  time.Time // lease deadline; zero when not leased
	lease     uuid.UUID // current (or last) lease id; zero when never leased
}

// [1 version][1 status][4 attempt][8 notBefore ns][8 deadline ns][16 lease id]
func (r entryRec) encode() []byte {
	b := make([]byte, 0, 38)
	b = append(b, formatV1, r.status)
	b = binary.BigEndian.AppendUint32(b, r.attempt)
	b = binary.BigEndian.AppendUint64(b, uint64(nanos(r.notBefore)))
	b = binary.BigEndian.AppendUint64(b, uint64(nanos(r.deadline)))
	return append(b, r.lease[:]...)
}

func decodeEntryRec(b []byte) (entryRec, error) {
	if len(b) != 38 || b[0] != formatV1 || b[1] < statusOpen || b[1] > statusDead {
		return entryRec{}, fmt.Errorf("%w: entry state is %d bytes with version %d, want 38 bytes with version 1 and status 1-3", ErrCorruptState, len(b), first(b))
	}
	r := entryRec{
		status:    b[1],
		attempt:   binary.BigEndian.Uint32(b[2:]),
		notBefore: fromNanos(int64(binary.BigEndian.Uint64(b[6:]))),
		deadline:  fromNanos(int64(binary.BigEndian.Uint64(b[14:]))),
	}
	copy(r.lease[:], b[22:38])
	return r, nil
}

// deadRec is one dead letter as stored; the record itself stays in the journal.
type deadRec struct {
	attempts    uint32
	at          time.Time
	lastAttempt uint32
	lastLease   uuid.UUID
	reason      string
}

// [1 version][4 attempts][8 at ns][4 last attempt][16 last lease id][2 reason length][reason]
func (d deadRec) encode() []byte {
	reason := d.reason
	if len(reason) > 0xffff {
		reason = reason[:0xffff]
	}
	b := make([]byte, 0, 35+len(reason))
	b = append(b, formatV1)
	b = binary.BigEndian.AppendUint32(b, d.attempts)
	b = binary.BigEndian.AppendUint64(b, uint64(nanos(d.at)))
	b = binary.BigEndian.AppendUint32(b, d.lastAttempt)
	b = append(b, d.lastLease[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(reason)))
	return append(b, reason...)
}

func decodeDeadRec(b []byte) (deadRec, error) {
	if len(b) < 35 || b[0] != formatV1 || len(b) != 35+int(binary.BigEndian.Uint16(b[33:])) {
		return deadRec{}, fmt.Errorf("%w: dead letter is %d bytes with version %d, want version 1 and 35 bytes plus the reason", ErrCorruptState, len(b), first(b))
	}
	d := deadRec{
		attempts:    binary.BigEndian.Uint32(b[1:]),
		at:          fromNanos(int64(binary.BigEndian.Uint64(b[5:]))),
		lastAttempt: binary.BigEndian.Uint32(b[13:]),
		reason:      string(b[35:]),
	}
	copy(d.lastLease[:], b[17:33])
	return d, nil
}

func first(b []byte) int {
	if len(b) == 0 {
		return -1
	}
	return int(b[0])
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
