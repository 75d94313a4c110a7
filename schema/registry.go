package schema

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/hamba/avro/v2"
)

// Mode is a subject's compatibility mode, named as in Confluent Schema
// Registry.
type Mode string

// Compatibility modes. BACKWARD: the new schema reads data written with
// the previous one; FORWARD: the previous schema reads data written with
// the new one; FULL: both; the _TRANSITIVE variants check every earlier
// version instead of the latest only; NONE checks nothing.
const (
	Backward           Mode = "BACKWARD"
	BackwardTransitive Mode = "BACKWARD_TRANSITIVE"
	Forward            Mode = "FORWARD"
	ForwardTransitive  Mode = "FORWARD_TRANSITIVE"
	Full               Mode = "FULL"
	FullTransitive     Mode = "FULL_TRANSITIVE"
	None               Mode = "NONE"
)

// ParseMode accepts a mode name in any letter case.
func ParseMode(s string) (Mode, error) {
	m := Mode(strings.ToUpper(strings.TrimSpace(s)))
	switch m {
	case Backward, BackwardTransitive, Forward, ForwardTransitive, Full, FullTransitive, None:
		return m, nil
	}
	return "", fmt.Errorf("compatibility mode %q: %w", s, ErrMode)
}

// Config configures a Registry.
type Config struct {
	// DefaultMode applies to subjects without their own mode.
	DefaultMode Mode
}

// DefaultConfig: BACKWARD, as Confluent Schema Registry.
func DefaultConfig() Config { return Config{DefaultMode: Backward} }

// Validate checks the config.
func (c Config) Validate() error {
	if _, err := ParseMode(string(c.DefaultMode)); err != nil {
		return fmt.Errorf("schema registry config: default mode: %w", err)
	}
	return nil
}

// Version is one immutable version of a subject.
type Version struct {
	Subject     string
	Version     int         // 1, 2, ... per subject
	ID          int         // global schema id, Confluent-style: one per distinct schema
	Fingerprint Fingerprint // SHA-256 of the canonical form
	Rabin       uint64      // CRC-64-AVRO of the canonical form
	Schema      avro.Schema
	JSON        []byte // the schema as stored and served (MarshalSchema)
	// Mode is the subject's mode when the version was registered;
	// Compatible and Reason are the verdict of that mode's check.
	Mode       Mode
	Compatible bool
	Reason     string
}

// Registry holds subjects and their versions in memory. It is rebuilt
// on startup by replaying the registrations recorded in the journal, in
// journal order: the same registrations in the same order give the same
// versions, ids and verdicts. Safe for concurrent use (one RWMutex;
// no other lock is taken while it is held).
type Registry struct {
	mu       sync.RWMutex
	cfg      Config
	compat   *avro.SchemaCompatibility
	subjects map[string]*subject
	byID     map[int]*Version // the first version registered with that id
	ids      map[Fingerprint]int
	byFP     map[Fingerprint]*Version // the first version with the fingerprint
}

type subject struct {
	mode     Mode // "" = the registry default
	versions []*Version
}

// NewRegistry returns an empty registry.
func NewRegistry(cfg Config) (*Registry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Registry{
		cfg:      cfg,
		compat:   avro.NewSchemaCompatibility(),
		subjects: map[string]*subject{},
		ids:      map[Fingerprint]int{},
		byID:     map[int]*Version{},
		byFP:     map[Fingerprint]*Version{},
	}, nil
}

// SetMode sets a subject's compatibility mode (the subject need not have
// versions yet). Record it with the next registration: Registration
// carries the mode, so a replay applies it in order.
func (r *Registry) SetMode(subj string, m Mode) error {
	m, err := ParseMode(string(m))
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.subject(subj).mode = m
	return nil
}

// Mode returns a subject's effective compatibility mode.
func (r *Registry) Mode(subj string) Mode {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.modeOf(r.subjects[subj])
}

func (r *Registry) modeOf(s *subject) Mode {
	if s == nil || s.mode == "" {
		return r.cfg.DefaultMode
	}
	return s.mode
}

func (r *Registry) subject(name string) *subject {
	s := r.subjects[name]
	if s == nil {
		s = &subject{}
		r.subjects[name] = s
	}
	return s
}

// Register adds schema as the subject's next version unless its
// fingerprint equals the latest version's; isNew reports which. An
// incompatible schema is registered all the same, with Compatible false
// and the reason.
func (r *Registry) Register(subj string, s avro.Schema) (v Version, isNew bool, err error) {
	if subj == "" {
		return Version{}, false, fmt.Errorf("register: empty subject: %w", ErrRegistration)
	}
	js, err := MarshalSchema(s)
	if err != nil {
		return Version{}, false, fmt.Errorf("register %s: %w", subj, err)
	}
	fp := FingerprintOf(s)
	r.mu.Lock()
	defer r.mu.Unlock()
	sub := r.subject(subj)
	if n := len(sub.versions); n > 0 && sub.versions[n-1].Fingerprint == fp {
		return *sub.versions[n-1], false, nil
	}
	mode := r.modeOf(sub)
	ok, reason := r.check(mode, sub, s, 0)
	id, known := r.ids[fp]
	if !known {
		id = r.newID(fp)
		r.ids[fp] = id
	}
	nv := &Version{
		Subject: subj, Version: len(sub.versions) + 1, ID: id,
		Fingerprint: fp, Rabin: Rabin(s), Schema: s, JSON: js,
		Mode: mode, Compatible: ok, Reason: reason,
	}
	sub.versions = append(sub.versions, nv)
	if !known {
		r.byID[id] = nv
	}
	if _, ok := r.byFP[fp]; !ok {
		r.byFP[fp] = nv
	}
	return *nv, true, nil
}

// newID derives a schema's global id from its fingerprint (the first 31
// bits, never 0), so ids do not depend on the order in which streams are
// replayed at startup: the same schema has the same id on every restart
// and every node. Two different schemas whose ids collide (odds about
// n²/2³² for n schemas) are separated by probing upwards; only then does
// the order of registration matter.
func (r *Registry) newID(fp Fingerprint) int {
	id := int(binary.BigEndian.Uint32(fp[:4]) & 0x7fffffff)
	for id == 0 || r.byID[id] != nil {
		id = (id + 1) & 0x7fffffff
	}
	return id
}

// check runs mode's check of s against the subject's versions (the
// first upto of them; 0 = all).
func (r *Registry) check(mode Mode, sub *subject, s avro.Schema, upto int) (bool, string) {
	vs := sub.versions
	if upto > 0 && upto < len(vs) {
		vs = vs[:upto]
	}
	if len(vs) == 0 || mode == None {
		return true, ""
	}
	against := vs[len(vs)-1:]
	if strings.HasSuffix(string(mode), "_TRANSITIVE") {
		against = vs
	}
	back := mode == Backward || mode == BackwardTransitive || mode == Full || mode == FullTransitive
	fwd := mode == Forward || mode == ForwardTransitive || mode == Full || mode == FullTransitive
	for i := len(against) - 1; i >= 0; i-- {
		old := against[i]
		if back {
			if err := r.compat.Compatible(s, old.Schema); err != nil {
				return false, fmt.Sprintf("%s: cannot read data written with version %d: %v", mode, old.Version, err)
			}
		}
		if fwd {
			if err := r.compat.Compatible(old.Schema, s); err != nil {
				return false, fmt.Sprintf("%s: version %d cannot read data written with the new schema: %v", mode, old.Version, err)
			}
		}
	}
	return true, ""
}

// CheckCompatibility reports whether proposed would be compatible with
// the subject under its mode, and why not. A subject without versions
// accepts anything.
func (r *Registry) CheckCompatibility(subj string, proposed avro.Schema) (bool, string) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	sub := r.subjects[subj]
	if sub == nil {
		return true, ""
	}
	return r.check(r.modeOf(sub), sub, proposed, 0)
}

// CheckAgainst checks proposed against one version of the subject under
// the subject's mode, as if that version were the latest (Confluent's
// POST /compatibility/subjects/{s}/versions/{v}; version -1 = latest).
func (r *Registry) CheckAgainst(subj string, version int, proposed avro.Schema) (bool, string, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	sub := r.subjects[subj]
	if sub == nil || len(sub.versions) == 0 {
		return false, "", fmt.Errorf("subject %q: %w", subj, ErrNotFound)
	}
	if version == -1 {
		version = len(sub.versions)
	}
	if version < 1 || version > len(sub.versions) {
		return false, "", fmt.Errorf("subject %q version %d: %w", subj, version, ErrNotFound)
	}
	ok, reason := r.check(r.modeOf(sub), sub, proposed, version)
	return ok, reason, nil
}

// Subjects lists the subjects with at least one version, sorted.
func (r *Registry) Subjects() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.subjects))
	for name, s := range r.subjects {
		if len(s.versions) > 0 {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Versions lists a subject's version numbers.
func (r *Registry) Versions(subj string) ([]int, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	sub := r.subjects[subj]
	if sub == nil || len(sub.versions) == 0 {
		return nil, fmt.Errorf("subject %q: %w", subj, ErrNotFound)
	}
	out := make([]int, len(sub.versions))
	for i := range out {
		out[i] = i + 1
	}
	return out, nil
}

// Version returns one version of a subject; -1 is the latest.
func (r *Registry) Version(subj string, version int) (Version, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	sub := r.subjects[subj]
	if sub == nil || len(sub.versions) == 0 {
		return Version{}, fmt.Errorf("subject %q: %w", subj, ErrNotFound)
	}
	if version == -1 {
		version = len(sub.versions)
	}
	if version < 1 || version > len(sub.versions) {
		return Version{}, fmt.Errorf("subject %q version %d: %w", subj, version, ErrNotFound)
	}
	return *sub.versions[version-1], nil
}

// Latest returns a subject's latest version.
func (r *Registry) Latest(subj string) (Version, error) { return r.Version(subj, -1) }

// ByID returns the first version registered with a global schema id.
func (r *Registry) ByID(id int) (Version, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if _, ok := r.byID[id]; !ok {
		return Version{}, fmt.Errorf("schema id %d: %w", id, ErrNotFound)
	}
	return *r.byID[id], nil
}

// ByFingerprint returns the first version registered with a fingerprint.
func (r *Registry) ByFingerprint(fp Fingerprint) (Version, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	v, ok := r.byFP[fp]
	if !ok {
		return Version{}, fmt.Errorf("fingerprint %s: %w", fp, ErrNotFound)
	}
	return *v, nil
}

// Lookup finds the subject's version whose fingerprint is s's (the
// earliest when several; Confluent's POST /subjects/{subject}).
func (r *Registry) Lookup(subj string, s avro.Schema) (Version, error) {
	fp := FingerprintOf(s)
	r.mu.RLock()
	defer r.mu.RUnlock()
	sub := r.subjects[subj]
	if sub != nil {
		if i := slices.IndexFunc(sub.versions, func(v *Version) bool { return v.Fingerprint == fp }); i >= 0 {
			return *sub.versions[i], nil
		}
	}
	return Version{}, fmt.Errorf("subject %q: schema %s: %w", subj, fp, ErrNotFound)
}
