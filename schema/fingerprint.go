package schema

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/hamba/avro/v2"
)

// Fingerprint is a schema version's content address: the SHA-256 of its
// Avro Parsing Canonical Form, as hamba/avro computes it (the canonical
// form keeps logical types with decimal precision and scale). Derive puts
// every fact the row codec depends on into that form (flavor in the
// record's namespace, MySQL fractional-seconds precision in the name of
// the temporal text records, column names in field names), so one
// fingerprint always decodes one way.
type Fingerprint [32]byte

// FingerprintOf returns the content address of s.
func FingerprintOf(s avro.Schema) Fingerprint { return Fingerprint(s.Fingerprint()) }

// String is the fingerprint in lower-case hex.
func (f Fingerprint) String() string { return hex.EncodeToString(f[:]) }

// IsZero reports whether f is the zero value.
func (f Fingerprint) IsZero() bool { return f == Fingerprint{} }

// ParseFingerprint reads 64 hex digits.
func ParseFingerprint(s string) (Fingerprint, error) {
	var f Fingerprint
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(f) {
		return f, fmt.Errorf("fingerprint %q: want 64 hex digits: %w", s, ErrRegistration)
	}
	copy(f[:], b)
	return f, nil
}

// Rabin returns the CRC-64-AVRO (Rabin) fingerprint of s's canonical form,
// the 64-bit fingerprint Avro single-object encoding uses.
func Rabin(s avro.Schema) uint64 {
	b, err := s.FingerprintUsing(avro.CRC64Avro)
	if err != nil || len(b) != 8 {
		// hamba computes CRC64-AVRO for every schema type; this cannot
		// happen for a parsed schema.
		panic(fmt.Sprintf("schema: CRC-64-AVRO fingerprint: %v", err))
	}
	return binary.BigEndian.Uint64(b)
}

// SingleObjectHeader returns the Avro single-object encoding header of s:
// the marker C3 01 and the CRC-64-AVRO fingerprint, little-endian. An
// encoded row prefixed with it is a self-describing Avro datum.
func SingleObjectHeader(s avro.Schema) []byte {
	h := make([]byte, 2, 10)
	h[0], h[1] = 0xc3, 0x01
	return binary.LittleEndian.AppendUint64(h, Rabin(s))
}

// MarshalSchema returns the schema's JSON as the registry stores and
// serves it: hamba's rendering, deterministic (properties sorted).
func MarshalSchema(s avro.Schema) ([]byte, error) {
	b, err := s.(interface{ MarshalJSON() ([]byte, error) }).MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("marshal schema: %w", err)
	}
	return b, nil
}
