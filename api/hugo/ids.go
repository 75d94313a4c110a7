package hugo

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"unicode/utf8"

	"github.com/cairnlog/cairn/journal"
)

// MaxEffectIDLen is the longest effectId, in UTF-16 code units: Hugo's SQL
// Server state store keys are NVARCHAR(256).
const MaxEffectIDLen = 256

// changeIDPrefix starts every changeId.
const changeIDPrefix = "cairn."

// effectSuffixMax is the longest "::v{schemaVersion}::" + "/" + "{seq}" part
// of an effectId, without the stream: "::v" + 10 digits (int32) + "::" + "/" +
// 19 digits (int64).
const effectSuffixMax = 3 + 10 + 2 + 1 + 19

// hashedSuffixLen is "~" followed by 32 hex digits (128 bits of SHA-256).
const hashedSuffixLen = 1 + 32

// ChangeIDLimit is the longest changeId, in UTF-16 code units, for a stream
// name of streamLen bytes: what is left of MaxEffectIDLen once the rest of the
// longest possible effectId is written. It is at least 93 (stream names are
// at most 128 characters).
func ChangeIDLimit(streamLen int) int { return MaxEffectIDLen - effectSuffixMax - streamLen }

// changeSubject is the last part of the natural changeId: the table of a row
// entry (change, snapshot_read), the kind name of everything else.
func changeSubject(e *journal.Entry) string {
	if (e.Kind == journal.KindChange || e.Kind == journal.KindSnapshotRead) && e.Table != "" {
		return e.Table
	}
	return e.Kind.String()
}

// naturalFits reports whether "cairn.{stream}.{subject}" is within the
// changeId limit. Stream names are ASCII.
func naturalFits(stream, subject string) bool {
	limit := ChangeIDLimit(len(stream)) - len(changeIDPrefix) - len(stream) - 1
	if len(subject) <= limit {
		return true // every UTF-8 byte is at most one UTF-16 unit
	}
	return utf16Len(subject) <= limit
}

// ChangeID returns the entry's changeId, as a JSON reader of the rendering
// sees it (each byte of invalid UTF-8 is U+FFFD): "cairn.{stream}.{table}" for change
// and snapshot_read entries with a table, "cairn.{stream}.{kind}" for the rest
// (kind as named by journal.Kind.String). When that natural id is longer than
// ChangeIDLimit(len(stream)) UTF-16 code units, it becomes its longest prefix
// that leaves room for a suffix, cut between characters, then "~" and the first
// 32 hex digits of the SHA-256 of the whole natural id (as UTF-8, after
// invalid bytes are replaced by U+FFFD). The id depends only on the stream and
// the table or kind, never on seq or version.
func ChangeID(e *journal.Entry) string {
	subject := changeSubject(e)
	natural := changeIDPrefix + e.Stream + "." + subject
	if naturalFits(e.Stream, subject) {
		return validText(natural)
	}
	return hashedChangeID(natural, ChangeIDLimit(len(e.Stream)))
}

// hashedChangeID shortens a natural changeId that is over limit.
func hashedChangeID(natural string, limit int) string {
	text := validText(natural)
	sum := sha256.Sum256([]byte(text))
	keep := limit - hashedSuffixLen
	units, cut := 0, 0
	for cut < len(text) {
		c, size := utf8.DecodeRuneInString(text[cut:])
		w := 1
		if c >= 0x10000 {
			w = 2
		}
		if units+w > keep {
			break
		}
		units += w
		cut += size
	}
	out := make([]byte, 0, cut+hashedSuffixLen)
	out = append(out, text[:cut]...)
	out = append(out, '~')
	out = hex.AppendEncode(out, sum[:16])
	return string(out)
}

// EffectID returns "{changeID}::v{schemaVersion}::{stream}/{seq}", the key a
// consumer passes to Hugo's DeterministicEffectStore.CaptureAsync. With a
// changeID from ChangeID, a stream name from the journal, a schemaVersion of
// at least 1 and a seq of at most 2^63-1, it is at most MaxEffectIDLen UTF-16
// code units.
func EffectID(changeID string, schemaVersion int32, stream string, seq uint64) string {
	b := make([]byte, 0, len(changeID)+effectSuffixMax+len(stream))
	b = appendEffectSuffix(append(b, changeID...), schemaVersion, stream, seq)
	return string(b)
}

func appendEffectSuffix(dst []byte, schemaVersion int32, stream string, seq uint64) []byte {
	dst = append(dst, "::v"...)
	dst = strconv.AppendInt(dst, int64(schemaVersion), 10)
	dst = append(dst, "::"...)
	dst = append(dst, stream...)
	dst = append(dst, '/')
	return strconv.AppendUint(dst, seq, 10)
}
