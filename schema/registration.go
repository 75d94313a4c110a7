package schema

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/hamba/avro/v2"
)

// Registration is one registry change as recorded in the payload of a
// journal `schema` entry: the subject, the subject's compatibility mode
// at that point, and the schema. Replaying the registrations of a
// journal in order (Registry.Apply) rebuilds the same versions, ids and
// verdicts.
type Registration struct {
	Subject string
	Mode    Mode
	Schema  avro.Schema
}

// registrationJSON is the payload layout; field order is fixed.
type registrationJSON struct {
	Format      int             `json:"format"`
	Subject     string          `json:"subject"`
	Mode        Mode            `json:"mode"`
	Fingerprint string          `json:"fingerprint"`
	Schema      json.RawMessage `json:"schema"`
}

const registrationFormat = 1

// MarshalRegistration encodes a registration as the payload of a journal
// `schema` entry: one JSON object, no whitespace,
// {"format":1,"subject":…,"mode":…,"fingerprint":"<hex SHA-256 of the
// canonical form>","schema":<the schema JSON>}. The bytes are
// deterministic.
func MarshalRegistration(reg Registration) ([]byte, error) {
	if reg.Subject == "" || reg.Schema == nil {
		return nil, fmt.Errorf("marshal registration: subject and schema are required: %w", ErrRegistration)
	}
	mode, err := ParseMode(string(reg.Mode))
	if err != nil {
		return nil, fmt.Errorf("marshal registration %s: %w", reg.Subject, err)
	}
	js, err := MarshalSchema(reg.Schema)
	if err != nil {
		return nil, fmt.Errorf("marshal registration %s: %w", reg.Subject, err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(registrationJSON{
		Format: registrationFormat, Subject: reg.Subject, Mode: mode,
		Fingerprint: FingerprintOf(reg.Schema).String(), Schema: js,
	}); err != nil {
		return nil, fmt.Errorf("marshal registration %s: %w", reg.Subject, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// UnmarshalRegistration decodes a payload written by MarshalRegistration
// and checks that the schema still has the recorded fingerprint.
func UnmarshalRegistration(b []byte) (Registration, error) {
	var rj registrationJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rj); err != nil {
		return Registration{}, fmt.Errorf("unmarshal registration: %v: %w", err, ErrRegistration)
	}
	if rj.Format != registrationFormat {
		return Registration{}, fmt.Errorf("unmarshal registration: format %d, want %d: %w", rj.Format, registrationFormat, ErrRegistration)
	}
	mode, err := ParseMode(string(rj.Mode))
	if err != nil {
		return Registration{}, fmt.Errorf("unmarshal registration %s: %w", rj.Subject, err)
	}
	if rj.Subject == "" {
		return Registration{}, fmt.Errorf("unmarshal registration: empty subject: %w", ErrRegistration)
	}
	s, err := Parse(rj.Schema)
	if err != nil {
		return Registration{}, fmt.Errorf("unmarshal registration %s: schema: %v: %w", rj.Subject, err, ErrRegistration)
	}
	if fp := FingerprintOf(s).String(); fp != rj.Fingerprint {
		return Registration{}, fmt.Errorf("unmarshal registration %s: schema fingerprint %s, recorded %s: %w", rj.Subject, fp, rj.Fingerprint, ErrRegistration)
	}
	return Registration{Subject: rj.Subject, Mode: mode, Schema: s}, nil
}

// Apply replays one registration: it sets the subject's mode, then
// registers the schema.
func (r *Registry) Apply(reg Registration) (Version, bool, error) {
	if err := r.SetMode(reg.Subject, reg.Mode); err != nil {
		return Version{}, false, err
	}
	return r.Register(reg.Subject, reg.Schema)
}

// Registration returns what to record for registering s under subj now:
// the subject's current mode and the schema.
func (r *Registry) Registration(subj string, s avro.Schema) Registration {
	return Registration{Subject: subj, Mode: r.Mode(subj), Schema: s}
}
