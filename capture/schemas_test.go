package capture

import (
	"errors"
	"testing"

	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/schema"
)

// TestSchemaRecorderRestartKeepsTransitiveVerdicts: a version that is
// compatible with the latest one but not with an earlier one is recorded
// incompatible under BACKWARD_TRANSITIVE, whether or not capture restarted
// after the earlier versions (the hashed metadata must not depend on it).
func TestSchemaRecorderRestartKeepsTransitiveVerdicts(t *testing.T) {
	col := func(name, typ string, nullable bool) schema.Column {
		return schema.Column{Name: name, Type: typ, Nullable: nullable}
	}
	versions := []schema.Table{
		{Columns: []schema.Column{col("id", "int4", false), col("a", "text", false)}},
		{Columns: []schema.Column{col("id", "int4", false)}},                         // a dropped
		{Columns: []schema.Column{col("id", "int4", false), col("a", "int4", true)}}, // a back, as a nullable int
	}
	for i := range versions {
		versions[i].Source, versions[i].Namespace, versions[i].Name, versions[i].Flavor = "src", "public", "t", schema.Postgres
		versions[i].Key = []string{"id"}
	}
	modes := SchemaModes{Default: schema.BackwardTransitive}
	record := func(rec *SchemaRecorder, tbl schema.Table, seq uint64) journal.Entry {
		t.Helper()
		ts, err := rec.Compile(tbl)
		if err != nil {
			t.Fatal(err)
		}
		e, due, _, err := rec.Due("public.t", ts, []byte{byte(seq)}, journal.Entry{})
		if err != nil || !due {
			t.Fatalf("version %d: due %v, %v", seq, due, err)
		}
		rec.Recorded("public.t", ts.FP)
		e.Seq = seq
		return e
	}

	clean, err := NewSchemaRecorder(modes, Resume{})
	if err != nil {
		t.Fatal(err)
	}
	var journaled []journal.Entry
	for i, v := range versions {
		journaled = append(journaled, record(clean, v, uint64(i+1)))
	}
	if journaled[2].Metadata["compatible"] != "false" {
		t.Fatalf("the third version should fail BACKWARD_TRANSITIVE against the first: %v", journaled[2].Metadata)
	}

	// A restart after the second version: the journal holds two.
	restarted, err := NewSchemaRecorder(modes, Resume{
		SchemaHistory: journaled[:2],
		Schemas:       map[string]journal.Entry{"public.t": journaled[1]},
	})
	if err != nil {
		t.Fatal(err)
	}
	again := record(restarted, versions[2], 3)
	if again.Metadata["compatible"] != journaled[2].Metadata["compatible"] || string(again.Payload) != string(journaled[2].Payload) {
		t.Fatalf("after a restart the third version is recorded %v, uninterrupted %v", again.Metadata, journaled[2].Metadata)
	}
}

// TestSchemaRecorderReplayAndGuard: after a restart a source may resend
// changes from before the journal's high-water; below it nothing is due,
// whatever shape the replay derives; at it, only the journal's own entry
// is accepted; above it, a shape other than the journal's latest is due.
func TestSchemaRecorderReplayAndGuard(t *testing.T) {
	tbl := func(cols ...string) schema.Table {
		t := schema.Table{Source: "src", Namespace: "public", Name: "t", Flavor: schema.Postgres, Key: []string{"id"}}
		for _, c := range cols {
			t.Columns = append(t.Columns, schema.Column{Name: c, Type: "int4", Nullable: c != "id"})
		}
		return t
	}
	first, err := NewSchemaRecorder(SchemaModes{Default: schema.Backward}, Resume{})
	if err != nil {
		t.Fatal(err)
	}
	var history []journal.Entry
	for i, v := range []schema.Table{tbl("id"), tbl("id", "a")} {
		ts, err := first.Compile(v)
		if err != nil {
			t.Fatal(err)
		}
		e, _, _, err := first.Due("public.t", ts, []byte{byte(10 * (i + 1))}, journal.Entry{})
		if err != nil {
			t.Fatal(err)
		}
		first.Recorded("public.t", ts.FP)
		history = append(history, e)
	}
	rec, err := NewSchemaRecorder(SchemaModes{Default: schema.Backward}, Resume{
		Position: []byte{20}, SchemaHistory: history, Schemas: map[string]journal.Entry{"public.t": history[1]},
	})
	if err != nil {
		t.Fatal(err)
	}
	v1, _ := rec.Compile(tbl("id"))
	v2, _ := rec.Compile(tbl("id", "a"))
	v3, _ := rec.Compile(tbl("id", "a", "b"))
	for _, c := range []struct {
		ts  *TableSchema
		pos byte
	}{{v1, 10}, {v1, 15}, {v3, 15}, {v2, 20}} {
		if _, due, _, err := rec.Due("public.t", c.ts, []byte{c.pos}, journal.Entry{}); err != nil || due {
			t.Fatalf("replay at %d: due %v, %v", c.pos, due, err)
		}
	}
	if _, _, _, err := rec.Due("public.t", v3, []byte{20}, journal.Entry{}); !errors.Is(err, ErrPermanent) {
		t.Fatalf("another shape than the journal's at the high-water: %v", err)
	}
	if _, due, _, err := rec.Due("public.t", v3, []byte{30}, journal.Entry{}); err != nil || !due {
		t.Fatalf("a new shape above the high-water: due %v, %v", due, err)
	}
	if _, due, _, err := rec.Due("public.t", v2, []byte{30}, journal.Entry{}); err != nil || due {
		t.Fatalf("the journal's latest shape above the high-water: due %v, %v", due, err)
	}
}
