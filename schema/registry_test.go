package schema

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/hamba/avro/v2"
)

func pgTable(cols ...Column) Table {
	return Table{Source: "src", Namespace: "public", Name: "items", Flavor: Postgres, Key: []string{"id"}, Columns: cols}
}

func mustDerive(t testing.TB, tbl Table) avro.Schema {
	t.Helper()
	s, err := Derive(tbl)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var (
	colID      = Column{Name: "id", Type: "int4"}
	colID8     = Column{Name: "id", Type: "int8"}
	colName    = Column{Name: "name", Type: "text", Nullable: true}
	colQty     = Column{Name: "qty", Type: "int4"}
	colEmail   = Column{Name: "email", Type: "text", Nullable: true}
	colFlag    = Column{Name: "flag", Type: "bool", Default: "false"}
	colFlagND  = Column{Name: "flag", Type: "bool"}
	colNameInt = Column{Name: "name", Type: "int4", Nullable: true}
)

// TestCompatibilityVerdicts checks the evolution cases of the schema
// registry issue under each mode: v1 is registered, then v2, and v2's
// verdict must be the one in the table.
func TestCompatibilityVerdicts(t *testing.T) {
	v1 := pgTable(colID, colName, colQty)
	cases := []struct {
		name                    string
		v2                      Table
		backward, forward, full bool
	}{
		{"add a nullable column", pgTable(colID, colName, colQty, colEmail), true, true, true},
		{"add a NOT NULL column with a default", pgTable(colID, colName, colQty, colFlag), true, true, true},
		{"add a NOT NULL column without a default", pgTable(colID, colName, colQty, colFlagND), false, true, false},
		{"drop a nullable column", pgTable(colID, colQty), true, true, true},
		{"drop a NOT NULL column", pgTable(colID, colName), true, false, false},
		{"widen int to bigint", pgTable(colID8, colName, colQty), true, false, false},
		{"change text to int", pgTable(colID, colNameInt, colQty), false, false, false},
	}
	modes := []Mode{Backward, Forward, Full, None}
	for _, c := range cases {
		want := map[Mode]bool{Backward: c.backward, Forward: c.forward, Full: c.full, None: true}
		for _, m := range modes {
			r, err := NewRegistry(Config{DefaultMode: m})
			if err != nil {
				t.Fatal(err)
			}
			subj := v1.Subject()
			if _, _, err := r.Register(subj, mustDerive(t, v1)); err != nil {
				t.Fatal(err)
			}
			s2 := mustDerive(t, c.v2)
			ok, _ := r.CheckCompatibility(subj, s2)
			v, isNew, err := r.Register(subj, s2)
			if err != nil || !isNew {
				t.Fatalf("%s: register v2: %v, new %v", c.name, err, isNew)
			}
			if v.Version != 2 || v.Compatible != want[m] || ok != want[m] || v.Mode != m {
				t.Errorf("%s under %s: compatible %v (check %v, %s), want %v", c.name, m, v.Compatible, ok, v.Reason, want[m])
			}
			if !v.Compatible && v.Reason == "" {
				t.Errorf("%s under %s: incompatible without a reason", c.name, m)
			}
		}
	}
}

func TestTransitiveModes(t *testing.T) {
	a := Column{Name: "a", Type: "int4"}
	aText := Column{Name: "a", Type: "text", Default: `"x"`}
	v1, v2, v3 := pgTable(colID, a), pgTable(colID), pgTable(colID, aText)
	for m, want := range map[Mode]bool{Backward: true, BackwardTransitive: false} {
		r, _ := NewRegistry(DefaultConfig())
		if err := r.SetMode(v1.Subject(), m); err != nil {
			t.Fatal(err)
		}
		for _, tbl := range []Table{v1, v2, v3} {
			if _, _, err := r.Register(tbl.Subject(), mustDerive(t, tbl)); err != nil {
				t.Fatal(err)
			}
		}
		v, _ := r.Latest(v1.Subject())
		if v.Version != 3 || v.Compatible != want {
			t.Errorf("%s: v3 compatible %v (%s), want %v", m, v.Compatible, v.Reason, want)
		}
		// Against version 2 as if it were the latest: transitive checks
		// versions 1 and 2, so only BACKWARD accepts.
		if ok, _, err := r.CheckAgainst(v1.Subject(), 2, mustDerive(t, v3)); err != nil || ok != want {
			t.Errorf("%s: CheckAgainst v2: %v %v", m, ok, err)
		}
	}
}

// registrations is a history of three subjects with re-registrations,
// a revert to an earlier schema and a mode change.
func registrations(t testing.TB) []Registration {
	other := Table{Source: "src", Namespace: "public", Name: "other", Flavor: Postgres, Columns: []Column{colID}}
	my := Table{Source: "m", Namespace: "shop", Name: "items", Flavor: MySQL, Columns: []Column{{Name: "id", Type: "bigint unsigned"}}}
	v1, v2 := pgTable(colID, colName), pgTable(colID, colName, colEmail)
	return []Registration{
		{Subject: v1.Subject(), Mode: Backward, Schema: mustDerive(t, v1)},
		{Subject: other.Subject(), Mode: Full, Schema: mustDerive(t, other)},
		{Subject: v1.Subject(), Mode: Backward, Schema: mustDerive(t, v1)}, // duplicate: no new version
		{Subject: v1.Subject(), Mode: Backward, Schema: mustDerive(t, v2)},
		{Subject: my.Subject(), Mode: None, Schema: mustDerive(t, my)},
		{Subject: v1.Subject(), Mode: Forward, Schema: mustDerive(t, v1)}, // revert: version 3, id of version 1
		{Subject: v1.Subject(), Mode: Forward, Schema: mustDerive(t, pgTable(colID8, colName))},
	}
}

func TestRegistryRebuildIsDeterministic(t *testing.T) {
	regs := registrations(t)
	r1, _ := NewRegistry(DefaultConfig())
	var payloads [][]byte
	for _, reg := range regs {
		if _, isNew, err := r1.Apply(reg); err != nil {
			t.Fatal(err)
		} else if isNew {
			b, err := MarshalRegistration(reg)
			if err != nil {
				t.Fatal(err)
			}
			payloads = append(payloads, b)
		}
	}
	if len(payloads) != 6 {
		t.Fatalf("%d new versions, want 6", len(payloads))
	}
	r2, _ := NewRegistry(DefaultConfig())
	for _, p := range payloads {
		reg, err := UnmarshalRegistration(p)
		if err != nil {
			t.Fatal(err)
		}
		again, err := MarshalRegistration(reg)
		if err != nil || string(again) != string(p) {
			t.Fatalf("payload not stable:\n%s\n%s", p, again)
		}
		if _, _, err := r2.Apply(reg); err != nil {
			t.Fatal(err)
		}
	}
	dump := func(r *Registry) string {
		out := ""
		for _, s := range r.Subjects() {
			vs, _ := r.Versions(s)
			for _, n := range vs {
				v, _ := r.Version(s, n)
				out += fmt.Sprintf("%s v%d id%d %s %x %s %v %q %s\n", v.Subject, v.Version, v.ID, v.Fingerprint, v.Rabin, v.Mode, v.Compatible, v.Reason, v.JSON)
			}
		}
		return out
	}
	d1, d2 := dump(r1), dump(r2)
	if d1 != d2 {
		t.Fatalf("rebuilt registry differs:\n%s\n---\n%s", d1, d2)
	}
	subj := pgTable().Subject()
	v3, _ := r2.Version(subj, 3)
	v1, _ := r2.Version(subj, 1)
	if v3.ID != v1.ID || v3.Fingerprint != v1.Fingerprint {
		t.Errorf("revert: v3 id %d fp %s, v1 id %d fp %s", v3.ID, v3.Fingerprint, v1.ID, v1.Fingerprint)
	}
	v4, _ := r2.Latest(subj)
	if v4.Version != 4 || v4.Mode != Forward || v4.Compatible {
		t.Errorf("v4: %+v", v4)
	}
	// Ids come from the fingerprint, so they do not depend on the order
	// registrations were replayed in.
	if want := int(binary.BigEndian.Uint32(v4.Fingerprint[:4]) & 0x7fffffff); v4.ID != want {
		t.Errorf("v4 id %d, want %d (from its fingerprint)", v4.ID, want)
	}
	for _, v := range []Version{v1, v3, v4} {
		if got, err := r2.ByID(v.ID); err != nil || got.Fingerprint != v.Fingerprint {
			t.Errorf("ByID(%d): %+v %v", v.ID, got, err)
		}
	}
	if _, err := r2.ByID(6); !errors.Is(err, ErrNotFound) {
		t.Errorf("ByID(6): %v", err)
	}
	if v, err := r2.ByFingerprint(v1.Fingerprint); err != nil || v.Version != 1 {
		t.Errorf("ByFingerprint: %+v %v", v, err)
	}
	if v, err := r2.Lookup(subj, v1.Schema); err != nil || v.Version != 1 {
		t.Errorf("Lookup: %+v %v", v, err)
	}
	if _, err := r2.Version("nope", 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown subject: %v", err)
	}
	if _, err := r2.Version(subj, 9); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown version: %v", err)
	}
}

func TestUnmarshalRegistrationRefusesTampering(t *testing.T) {
	reg := registrations(t)[0]
	b, _ := MarshalRegistration(reg)
	for _, bad := range [][]byte{
		nil, []byte(`{}`), []byte(`{"format":2}`),
		[]byte(string(b[:len(b)-2])),
		[]byte(replaceOnce(string(b), `"int"`, `"long"`)),
		[]byte(replaceOnce(string(b), `"BACKWARD"`, `"SIDEWAYS"`)),
	} {
		if _, err := UnmarshalRegistration(bad); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func replaceOnce(s, old, new string) string {
	for i := 0; i+len(old) <= len(s); i++ {
		if s[i:i+len(old)] == old {
			return s[:i] + new + s[i+len(old):]
		}
	}
	return s
}

func TestDeriveIsDeterministic(t *testing.T) {
	var first []byte
	for range 20 {
		tbl := pgTable(colID, colName, Column{Name: "e", Type: "public.mood", Class: ClassEnum, EnumValues: []string{"sad", "ok"}},
			Column{Name: "ae", Type: "public._mood", Elem: &Column{Type: "public.mood", Class: ClassEnum, EnumValues: []string{"sad", "ok"}}})
		b, err := MarshalSchema(mustDerive(t, tbl))
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = b
		} else if string(b) != string(first) {
			t.Fatalf("schema bytes differ:\n%s\n%s", first, b)
		}
	}
}

func TestRegistryConcurrentUse(t *testing.T) {
	r, _ := NewRegistry(DefaultConfig())
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tbl := pgTable(colID, colName)
			tbl.Name = fmt.Sprintf("t%d", g%4)
			for range 50 {
				if _, _, err := r.Register(tbl.Subject(), mustDerive(t, tbl)); err != nil {
					t.Error(err)
				}
				r.Subjects()
				r.CheckCompatibility(tbl.Subject(), mustDerive(t, tbl))
			}
		}()
	}
	wg.Wait()
	if n := len(r.Subjects()); n != 4 {
		t.Fatalf("%d subjects", n)
	}
}
