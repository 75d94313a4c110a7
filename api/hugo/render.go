package hugo

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/cairnlog/cairn/journal"
)

// Profile names this rendering; it is the first field of every object.
// A change that is not backward compatible (a field removed, renamed or
// retyped, a kind renumbered) gets a new profile name.
const Profile = "cairn.hugo.v1"

// DefaultSchemaVersion is the schemaVersion of every entry while
// Options.SchemaVersion is nil, that is until the schema registry assigns
// versions.
const DefaultSchemaVersion int32 = 1

// Options are the per-server inputs of a rendering. The zero value is usable.
type Options struct {
	// SourcePeerID is this ledger node's id, written as sourcePeerId (null
	// when empty).
	SourcePeerID string

	// SchemaVersion gives the payload contract version of a record, written
	// as schemaVersion and used in effectId. It must return at least 1 and be
	// a pure function of the record: the version of an entry already
	// delivered must never change, or its effectId changes and Hugo consumers
	// run its side effect again. nil means DefaultSchemaVersion (1) for every
	// entry; that is the rule until the schema registry lands, and the
	// registry must keep giving 1 to the entries recorded before it.
	SchemaVersion func(rec *journal.Record) int32
}

// Render returns rec in the Hugo profile: one JSON object, without a trailing
// newline. See AppendRender.
func Render(rec *journal.Record, opt Options) ([]byte, error) {
	if rec == nil {
		return nil, fmt.Errorf("%w: nil record", ErrUnrenderable)
	}
	return AppendRender(make([]byte, 0, renderSize(rec)), rec, opt)
}

// AppendRender appends rec in the Hugo profile (one JSON object, no trailing
// newline; docs/contracts/hugo.md) to dst and returns the extended slice. The
// same record and options always give the same bytes. On error it returns dst
// unchanged and an error wrapping ErrUnrenderable; records read back from a
// journal store always render.
func AppendRender(dst []byte, rec *journal.Record, opt Options) ([]byte, error) {
	if rec == nil {
		return dst, fmt.Errorf("%w: nil record", ErrUnrenderable)
	}
	e := &rec.Entry
	if err := checkRecord(e); err != nil {
		return dst, err
	}
	version := DefaultSchemaVersion
	if opt.SchemaVersion != nil {
		if version = opt.SchemaVersion(rec); version < 1 {
			return dst, fmt.Errorf("%w: %s/%d: schema version %d (versions start at 1)", ErrUnrenderable, e.Stream, e.Seq, version)
		}
	}

	dst = append(dst, `{"profile":"`+Profile+`","streamId":"`...)
	dst = append(dst, e.Stream...) // checked: letters, digits, '.', '_', '-'
	dst = append(dst, `","queueName":"`...)
	dst = append(dst, e.Stream...)
	dst = append(dst, `","sequence":`...)
	dst = strconv.AppendUint(dst, e.Seq, 10)
	dst = append(dst, `,"sequenceNumber":`...)
	dst = strconv.AppendUint(dst, e.Seq, 10)
	dst = append(dst, `,"prevSequence":`...)
	dst = strconv.AppendUint(dst, e.Seq-1, 10)
	dst = append(dst, `,"kind":`...)
	dst = strconv.AppendInt(dst, int64(KindOffset+int32(e.Kind)), 10)
	dst = append(dst, `,"flags":0,"sourcePeerId":`...)
	dst = appendStringOrNull(dst, opt.SourcePeerID)
	dst = append(dst, `,"ownerPeerId":`...)
	dst = appendStringOrNull(dst, e.ProducerID)
	dst = append(dst, `,"sourceId":`...)
	dst = appendStringOrNull(dst, e.SourceID)
	dst = append(dst, `,"sourcePosition":`...)
	dst = appendBase64OrNull(dst, e.SourcePosition)
	dst = append(dst, `,"txId":`...)
	dst = appendStringOrNull(dst, e.TxID)
	dst = append(dst, `,"occurredAt":`...)
	dst = appendTimeOrNull(dst, e.CommitTime)
	dst = append(dst, `,"recordedAt":`...)
	dst = appendTimeOrNull(dst, e.RecordedAt)

	// changeId, then effectId = the same escaped text + the suffix (the
	// suffix is plain ASCII, so escaping the whole equals escaping the parts).
	dst = append(dst, `,"changeId":`...)
	idStart := len(dst) + 1
	if subject := changeSubject(e); naturalFits(e.Stream, subject) {
		dst = append(dst, `"`+changeIDPrefix...)
		dst = append(dst, e.Stream...)
		dst = append(dst, '.')
		dst = appendEscaped(dst, subject)
		dst = append(dst, '"')
	} else {
		dst = appendString(dst, hashedChangeID(changeIDPrefix+e.Stream+"."+subject, ChangeIDLimit(len(e.Stream))))
	}
	idEnd := len(dst) - 1
	dst = append(dst, `,"schemaId":`...)
	dst = appendHexOrNull(dst, e.SchemaFingerprint)
	dst = append(dst, `,"schemaVersion":`...)
	dst = strconv.AppendInt(dst, int64(version), 10)
	dst = append(dst, `,"effectId":"`...)
	dst = append(dst, dst[idStart:idEnd]...)
	dst = appendEffectSuffix(dst, version, e.Stream, e.Seq)
	dst = append(dst, '"')

	dst = append(dst, `,"entityKey":`...)
	switch {
	case len(e.Key) == 0:
		dst = append(dst, `null,"entityKeyEncoding":null`...)
	case utf8.Valid(e.Key):
		dst = appendString(dst, e.Key)
		dst = append(dst, `,"entityKeyEncoding":"utf-8"`...)
	default:
		dst = appendBase64OrNull(dst, e.Key)
		dst = append(dst, `,"entityKeyEncoding":"base64"`...)
	}
	dst = append(dst, `,"idempotencyKey":`...)
	if e.ProducerID == "" {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, `{"producerId":`...)
		dst = appendString(dst, e.ProducerID)
		dst = append(dst, `,"producerSeq":`...)
		dst = strconv.AppendUint(dst, e.ProducerSeq, 10)
		dst = append(dst, '}')
	}
	dst = append(dst, `,"table":`...)
	dst = appendStringOrNull(dst, e.Table)
	dst = append(dst, `,"op":`...)
	if e.Op == journal.OpNone {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '"')
		dst = append(dst, e.Op.String()...)
		dst = append(dst, '"')
	}
	dst = append(dst, `,"before":`...)
	dst = appendImage(dst, e.Before)
	dst = append(dst, `,"after":`...)
	dst = appendImage(dst, e.After)
	dst = append(dst, `,"payload":`...)
	dst = appendBase64OrNull(dst, e.Payload)
	dst = append(dst, `,"payloadEncoding":`...)
	dst = appendPayloadEncoding(dst, e.Payload)
	dst = append(dst, `,"metadata":`...)
	dst = appendMetadata(dst, e.Metadata)
	dst = append(dst, `,"prevHash":"`...)
	dst = hex.AppendEncode(dst, e.PrevHash[:])
	dst = append(dst, `","hash":"`...)
	dst = hex.AppendEncode(dst, rec.Hash[:])
	dst = append(dst, `","checkpointToken":"`...)
	dst = appendCheckpointToken(dst, e.Stream, e.Seq, rec.Hash)
	return append(dst, `"}`...), nil
}

// checkRecord rejects what the profile cannot represent, before anything is
// written.
func checkRecord(e *journal.Entry) error {
	if !plainStreamName(e.Stream) {
		return fmt.Errorf("%w: stream name %q (want 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit)", ErrUnrenderable, e.Stream)
	}
	if e.Seq == 0 || e.Seq > math.MaxInt64 {
		return fmt.Errorf("%w: %s: seq %d is out of range 1..2^63-1 (render records read from a store)", ErrUnrenderable, e.Stream, e.Seq)
	}
	if !e.Kind.Valid() {
		return fmt.Errorf("%w: %s/%d: unknown kind %d", ErrUnrenderable, e.Stream, e.Seq, uint8(e.Kind))
	}
	if !e.Op.Valid() {
		return fmt.Errorf("%w: %s/%d: unknown op %d", ErrUnrenderable, e.Stream, e.Seq, uint8(e.Op))
	}
	if !renderableTime(e.CommitTime) {
		return fmt.Errorf("%w: %s/%d: commit time %v is outside years 1-9999", ErrUnrenderable, e.Stream, e.Seq, e.CommitTime)
	}
	if !renderableTime(e.RecordedAt) {
		return fmt.Errorf("%w: %s/%d: recorded time %v is outside years 1-9999", ErrUnrenderable, e.Stream, e.Seq, e.RecordedAt)
	}
	return nil
}

// plainStreamName is journal.ValidateStreamName without the regexp.
func plainStreamName(s string) bool {
	if len(s) == 0 || len(s) > maxStreamLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case (c == '.' || c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

func renderableTime(t time.Time) bool {
	if t.IsZero() {
		return true
	}
	y := t.UTC().Year()
	return y >= 1 && y <= 9999
}

func appendStringOrNull(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, "null"...)
	}
	return appendString(dst, s)
}

func appendBase64OrNull(dst, b []byte) []byte {
	if len(b) == 0 {
		return append(dst, "null"...)
	}
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

func appendHexOrNull(dst, b []byte) []byte {
	if len(b) == 0 {
		return append(dst, "null"...)
	}
	dst = append(dst, '"')
	dst = hex.AppendEncode(dst, b)
	return append(dst, '"')
}

// appendTimeOrNull writes t as RFC 3339 in UTC with the fraction trimmed of
// trailing zeros, or null for the zero time ("none").
func appendTimeOrNull(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(dst, "null"...)
	}
	dst = append(dst, '"')
	dst = t.UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}

// appendImage embeds a row image. Row images are canonical JSON objects
// (docs/formats/row-json.md) and are copied as they are once validated
// (JSON and UTF-8). Anything else is
// made safe for one NDJSON line: a JSON object with line breaks is
// compacted, and bytes that are not a JSON object become
// {"$base64":"<standard base64>"}. Empty is null.
func appendImage(dst, b []byte) []byte {
	if len(b) == 0 {
		return append(dst, "null"...)
	}
	ok, breaks := jsonCheck(b)
	if ok && !breaks && b[0] == '{' {
		return append(dst, b...)
	}
	if ok {
		buf := bytes.NewBuffer(dst)
		if err := json.Compact(buf, b); err == nil && buf.Len() > len(dst) && buf.Bytes()[len(dst)] == '{' {
			return buf.Bytes()
		}
	}
	dst = append(dst, `{"$base64":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, `"}`...)
}

// Payload media types, decided from the bytes (the journal records none).
const (
	EncodingJSON   = "application/json"
	EncodingText   = "text/plain; charset=utf-8"
	EncodingBinary = "application/octet-stream"
)

// PayloadEncoding says what a payload's bytes are: EncodingJSON when they are
// one valid JSON value in UTF-8, else EncodingText when they are valid UTF-8, else
// EncodingBinary; "" for an empty payload.
func PayloadEncoding(payload []byte) string {
	switch {
	case len(payload) == 0:
		return ""
	case jsonValid(payload):
		return EncodingJSON
	case utf8.Valid(payload):
		return EncodingText
	default:
		return EncodingBinary
	}
}

func jsonValid(b []byte) bool { ok, _ := jsonCheck(b); return ok }

func appendPayloadEncoding(dst, payload []byte) []byte {
	enc := PayloadEncoding(payload)
	if enc == "" {
		return append(dst, "null"...)
	}
	dst = append(dst, '"')
	dst = append(dst, enc...)
	return append(dst, '"')
}

// appendMetadata writes the map as an object with keys in byte order ({} when
// empty).
func appendMetadata(dst []byte, md map[string]string) []byte {
	if len(md) == 0 {
		return append(dst, "{}"...)
	}
	var small [8]string
	keys := small[:0]
	for k := range md {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		dst = appendString(dst, md[k])
	}
	return append(dst, '}')
}

// renderSize estimates the rendered length of rec, to size Render's buffer.
func renderSize(rec *journal.Record) int {
	e := &rec.Entry
	n := 900 + 3*len(e.Stream) + 2*len(e.Table) + len(e.SourceID) + len(e.TxID) + len(e.ProducerID) +
		(len(e.SourcePosition)+len(e.Payload)+len(e.Key))*4/3 + 2*len(e.SchemaFingerprint) +
		len(e.Key) + len(e.Before) + len(e.After)
	for k, v := range e.Metadata {
		n += len(k) + len(v) + 6
	}
	return n
}
