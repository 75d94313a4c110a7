package hugo

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
	"strings"

	"github.com/cairnlog/cairn/journal"
)

// CheckpointTokenVersion is the first byte of every checkpoint token.
const CheckpointTokenVersion = 1

// maxStreamLen is the longest stream name (journal.ValidateStreamName).
const maxStreamLen = 128

// tokenFixed is every byte of a token except the stream name: version, stream
// length, seq, hash and checksum.
const tokenFixed = 1 + 1 + 8 + journal.HashSize + 4

// MaxCheckpointTokenLen is the longest token text, for a 128-byte stream name.
const MaxCheckpointTokenLen = ((tokenFixed+maxStreamLen)*8 + 5) / 6

// tokenEncoding is base64url without padding, strict about trailing bits, so a
// token has exactly one text form. It is never modified.
var tokenEncoding = base64.RawURLEncoding.Strict()

// CheckpointToken is the position of one delivered entry: resume with "deliver
// the entries after Seq", and the server checks that Hash is still the hash
// of entry Seq (a consumer on a forked or restored-from-elsewhere journal finds
// out at once).
type CheckpointToken struct {
	Stream string
	Seq    uint64
	Hash   journal.Hash
}

// String returns the token text, as Render writes it in checkpointToken.
// Stream must be a valid journal stream name (at most 128 bytes).
func (t CheckpointToken) String() string {
	return string(appendCheckpointToken(nil, t.Stream, t.Seq, t.Hash))
}

// appendCheckpointToken appends the token text for (stream, seq, hash):
// base64url (no padding) of
//
//	u8  version = 1
//	u8  n = len(stream)          1..128
//	n   stream                   the stream name bytes
//	u64 seq                      big-endian
//	32  hash                     SHA-256 entry hash
//	u32 CRC-32C (Castagnoli)     of all the bytes above, big-endian
func appendCheckpointToken(dst []byte, stream string, seq uint64, hash journal.Hash) []byte {
	n := min(len(stream), maxStreamLen) // Render checks the stream first
	rawLen := tokenFixed + n
	textLen := tokenEncoding.EncodedLen(rawLen)
	// The raw bytes are built in dst's spare capacity just past where the
	// text goes, then encoded into place: no allocation when dst has room.
	p := len(dst)
	dst = slices.Grow(dst, textLen+rawLen)[:p+textLen]
	dst = append(dst, CheckpointTokenVersion, byte(n))
	dst = append(dst, stream[:n]...)
	dst = binary.BigEndian.AppendUint64(dst, seq)
	dst = append(dst, hash[:]...)
	dst = binary.BigEndian.AppendUint32(dst, crc32.Checksum(dst[p+textLen:], crc32.MakeTable(crc32.Castagnoli)))
	tokenEncoding.Encode(dst[p:p+textLen], dst[p+textLen:])
	return dst[:p+textLen]
}

// ParseCheckpointToken parses a checkpointToken written by Render. Every
// failure wraps ErrBadCheckpointToken and says what is wrong with the token.
// It checks the token's own integrity only; whether Hash is the journal's hash
// at Seq is for the server to check against the stream.
func ParseCheckpointToken(s string) (CheckpointToken, error) {
	var t CheckpointToken
	fail := func(format string, args ...any) (CheckpointToken, error) {
		return CheckpointToken{}, fmt.Errorf("%w: %s", ErrBadCheckpointToken, fmt.Sprintf(format, args...))
	}
	switch {
	case s == "":
		return fail("empty token (to read from the start of a stream, send no token)")
	case len(s) > MaxCheckpointTokenLen:
		return fail("%d characters, longer than any token (at most %d): pass the checkpointToken value exactly as delivered", len(s), MaxCheckpointTokenLen)
	case strings.ContainsAny(s, "=\r\n"):
		return fail("contains padding or a line break: pass the checkpointToken value exactly as delivered")
	}
	raw, err := tokenEncoding.DecodeString(s)
	if err != nil {
		return fail("not base64url: %v", err)
	}
	if len(raw) < 2 {
		return fail("%d bytes decoded, too short to be a token", len(raw))
	}
	if raw[0] != CheckpointTokenVersion {
		return fail("token version %d is not supported (this server reads version %d); was it made by a newer Cairn?", raw[0], CheckpointTokenVersion)
	}
	n := int(raw[1])
	if n == 0 || n > maxStreamLen {
		return fail("stream name length %d is out of range 1..%d", n, maxStreamLen)
	}
	if len(raw) != tokenFixed+n {
		return fail("%d bytes decoded, want %d for a %d-byte stream name: the token is truncated or has extra data", len(raw), tokenFixed+n, n)
	}
	body, sum := raw[:len(raw)-4], binary.BigEndian.Uint32(raw[len(raw)-4:])
	if crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)) != sum {
		return fail("checksum does not match: the token was altered or damaged in transit")
	}
	t.Stream = string(raw[2 : 2+n])
	if err := journal.ValidateStreamName(t.Stream); err != nil {
		return fail("%v", err)
	}
	t.Seq = binary.BigEndian.Uint64(raw[2+n:])
	if t.Seq == 0 || t.Seq > math.MaxInt64 {
		return fail("seq %d is out of range 1..2^63-1", t.Seq)
	}
	copy(t.Hash[:], raw[2+n+8:])
	return t, nil
}
