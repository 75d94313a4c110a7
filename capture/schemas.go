package capture

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/schema"
)

// Schema entries are shared by the sources that store rows as Avro
// (docs/formats/avro.md). Every captured table is a registry subject
// "{source}.{namespace}.{table}". Before the first row of a table whose
// derived schema differs from the latest one recorded in the journal for
// it, the source emits a `schema` entry. The latest recorded schema comes
// from the journal at Start (Resume.Schemas) and from the session's own
// schema entries afterwards, so a restart records nothing a clean run
// would not. A schema entry takes no index of its own: its position is the
// position of the entry emitted just before it with SchemaPositionMark
// appended, which sorts after that entry and before the next one.

// SchemaPositionMark is appended to the position of the entry before a
// schema entry ('S').
const SchemaPositionMark = 0x53

// SchemaPosition is the position of a schema entry that follows the entry
// at prev.
func SchemaPosition(prev []byte) []byte {
	p := make([]byte, len(prev)+1)
	copy(p, prev)
	p[len(prev)] = SchemaPositionMark
	return p
}

// TableSchema is a table's current derived schema and its row codec.
type TableSchema struct {
	Table   schema.Table
	Subject string
	FP      schema.Fingerprint
	Codec   *schema.Codec
}

// Encode turns a canonical row image into Avro (nil stays nil).
func (ts *TableSchema) Encode(img []byte) ([]byte, error) {
	if img == nil {
		return nil, nil
	}
	return ts.Codec.Encode(nil, img)
}

// SchemaModes is a source's compatibility configuration: the mode of its
// subjects and overrides by "namespace.table".
type SchemaModes struct {
	Default  schema.Mode
	PerTable map[string]schema.Mode // by subject
}

// ParseSchemaModes reads a source's compatibility settings. split turns a
// configured table name into namespace and table (each flavour names
// tables its own way).
func ParseSchemaModes(kind, source, def string, perTable map[string]string, split func(string) (string, string, error)) (SchemaModes, error) {
	m := SchemaModes{Default: schema.Backward, PerTable: map[string]schema.Mode{}}
	if def != "" {
		mode, err := schema.ParseMode(strings.ToUpper(def))
		if err != nil {
			return m, fmt.Errorf("%s source %s: compatibility: %w (use BACKWARD, FORWARD, FULL, NONE or a *_TRANSITIVE)", kind, source, err)
		}
		m.Default = mode
	}
	for t, v := range perTable {
		ns, name, err := split(t)
		if err != nil {
			return m, fmt.Errorf("%s source %s: table_compatibility: %w", kind, source, err)
		}
		mode, err := schema.ParseMode(strings.ToUpper(v))
		if err != nil {
			return m, fmt.Errorf("%s source %s: table_compatibility %s: %w", kind, source, t, err)
		}
		m.PerTable[schema.SubjectOf(source, ns, name)] = mode
	}
	return m, nil
}

// SchemaRecorder keeps a source's registry and decides when a schema
// entry is due. Not safe for concurrent use, except Incompatible.
type SchemaRecorder struct {
	reg      *schema.Registry
	recorded map[string]schema.Fingerprint // table -> latest schema in the journal or emitted
	codecs   map[schema.Fingerprint]*schema.Codec
	resume   []byte
	// journaled holds every schema entry of the journal by table + "\x00" +
	// position, for telling a replay from a shape the journal lacks.
	journaled map[string]schema.Fingerprint
}

// NewSchemaRecorder rebuilds the recorded state from the journal (the
// latest schema entry of each table, in Resume.Schemas) and applies the
// configured modes to what is registered from now on; the recorded entries
// keep the modes they were checked under.
func NewSchemaRecorder(modes SchemaModes, resume Resume) (*SchemaRecorder, error) {
	reg, err := schema.NewRegistry(schema.Config{DefaultMode: modes.Default})
	if err != nil {
		return nil, err
	}
	r := &SchemaRecorder{reg: reg, recorded: map[string]schema.Fingerprint{}, codecs: map[schema.Fingerprint]*schema.Codec{},
		resume: append([]byte(nil), resume.Position...)}
	// Every recorded version, in journal order (the latest per table when
	// a caller gives only Schemas).
	history := resume.SchemaHistory
	if len(history) == 0 {
		for _, t := range slices.Sorted(maps.Keys(resume.Schemas)) {
			history = append(history, resume.Schemas[t])
		}
	}
	r.journaled = make(map[string]schema.Fingerprint, len(resume.SchemaHistory))
	for _, e := range resume.SchemaHistory {
		var fp schema.Fingerprint
		copy(fp[:], e.SchemaFingerprint)
		r.journaled[e.Table+"\x00"+string(e.SourcePosition)] = fp
	}
	for _, e := range history {
		rg, err := schema.UnmarshalRegistration(e.Payload)
		if err != nil {
			return nil, Permanent(fmt.Errorf("schema entry %d (%s): %w", e.Seq, e.Table, err))
		}
		if _, _, err := reg.Apply(rg); err != nil {
			return nil, Permanent(fmt.Errorf("schema entry %d (%s): %w", e.Seq, e.Table, err))
		}
		var fp schema.Fingerprint
		copy(fp[:], e.SchemaFingerprint)
		r.recorded[e.Table] = fp
	}
	for _, subj := range slices.Sorted(maps.Keys(modes.PerTable)) {
		if err := reg.SetMode(subj, modes.PerTable[subj]); err != nil {
			return nil, Permanent(err)
		}
	}
	for _, subj := range reg.Subjects() {
		if _, ok := modes.PerTable[subj]; !ok {
			if err := reg.SetMode(subj, modes.Default); err != nil {
				return nil, Permanent(err)
			}
		}
	}
	return r, nil
}

// Compile derives t's Avro schema and its codec (cached by fingerprint).
func (r *SchemaRecorder) Compile(t schema.Table) (*TableSchema, error) {
	as, err := schema.Derive(t)
	if err != nil {
		return nil, err
	}
	ts := &TableSchema{Table: t, Subject: t.Subject(), FP: schema.FingerprintOf(as)}
	if c, ok := r.codecs[ts.FP]; ok {
		ts.Codec = c
		return ts, nil
	}
	if ts.Codec, err = schema.NewCodec(as); err != nil {
		return nil, fmt.Errorf("schema of %s: %w", t.Subject(), err)
	}
	r.codecs[ts.FP] = ts.Codec
	return ts, nil
}

// Needs reports whether a row of table with schema ts must be preceded by
// a schema entry (Due builds it).
func (r *SchemaRecorder) Needs(table string, ts *TableSchema) bool { return r.recorded[table] != ts.FP }

// Due returns the schema entry to emit before a row of table whose current
// schema is ts, or false when the latest recorded schema is ts already.
// pos is the schema entry's own position (SchemaPosition of the entry
// emitted just before, or a slot of its own); e carries the transaction's
// fields (TxID, CommitTime). Call Recorded once the entry is emitted. A
// version that fails its subject's check is still recorded, marked
// compatible=false; reason is non-empty when this is such a version and
// the journal did not hold it yet (the source counts and logs it).
//
// Positions at or below the journal's high-water are a source replaying
// what the journal holds: below it nothing is emitted (the rows that follow
// are skipped too); at it, the journal's entry must be this very schema
// entry (same table and fingerprint), or the shape changed while capture
// was down and the next row would name a schema the journal lacks: a
// permanent error, never a silent skip.
func (r *SchemaRecorder) Due(table string, ts *TableSchema, pos []byte, e journal.Entry) (entry journal.Entry, due bool, reason string, err error) {
	if r.recorded[table] == ts.FP {
		return e, false, "", nil
	}
	if len(r.resume) > 0 {
		switch c := bytes.Compare(pos, r.resume); {
		case c < 0:
			// A replay from before the high-water (PostgreSQL resends from
			// its slot's confirmed LSN): the rows that follow are at or below
			// it too and will be skipped, so nothing is emitted or recorded;
			// the journal's latest schema stays what the first row past the
			// high-water is checked against.
			return e, false, "", nil
		case c == 0:
			// The high-water entry itself is this schema entry, unless the
			// shape changed while capture was down: then the next row, past
			// the high-water, would name a schema the journal lacks.
			if fp, ok := r.journaled[table+"\x00"+string(pos)]; ok && fp == ts.FP {
				r.recorded[table] = ts.FP
				return e, false, "", nil
			}
			return e, false, "", Permanent(fmt.Errorf("table %s has a new shape (schema %s) at the journal's high-water source position, "+
				"where the journal holds another: it changed while capture was stopped; capture the table into a new stream", table, ts.FP.String()))
		}
	}
	payload, err := schema.MarshalRegistration(r.reg.Registration(ts.Subject, ts.Codec.Schema()))
	if err != nil {
		return e, false, "", err
	}
	v, _, err := r.reg.Register(ts.Subject, ts.Codec.Schema())
	if err != nil {
		return e, false, "", err
	}
	e.Kind, e.SourcePosition, e.Table = journal.KindSchema, pos, table
	e.Payload, e.SchemaFingerprint = payload, append([]byte(nil), ts.FP[:]...)
	e.Metadata = map[string]string{"compatible": strconv.FormatBool(v.Compatible), "mode": string(v.Mode)}
	if !v.Compatible {
		reason = v.Reason
		if reason == "" {
			reason = "incompatible"
		}
	}
	return e, true, reason, nil
}

// Ensure emits (through emit) the schema entry due before a row of table
// whose schema is ts, if one is due, and notes it recorded. pos and e are
// as for Due; incompatible is called with the reason when the version
// fails its subject's check.
func (r *SchemaRecorder) Ensure(ctx context.Context, table string, ts *TableSchema, pos []byte, e journal.Entry,
	emit func(context.Context, journal.Entry) error, incompatible func(reason string)) error {
	e, due, reason, err := r.Due(table, ts, pos, e)
	if err != nil || !due {
		return err
	}
	if reason != "" && incompatible != nil {
		incompatible(reason)
	}
	if err := emit(ctx, e); err != nil {
		return err
	}
	r.Recorded(table, ts.FP)
	return nil
}

// Recorded notes that table's latest recorded schema is now fp.
func (r *SchemaRecorder) Recorded(table string, fp schema.Fingerprint) { r.recorded[table] = fp }
