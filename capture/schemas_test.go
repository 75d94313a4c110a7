package capture

import (
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
