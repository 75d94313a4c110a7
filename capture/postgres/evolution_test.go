package postgres

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cairnlog/cairn/capture/capturetest"
	"github.com/cairnlog/cairn/fixtures"
	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/schema"
)

// TestSchemaEvolution runs an evolution script through capture on a real
// PostgreSQL: every shape change becomes one schema version, recorded
// before the first change that uses it, with the verdict of the subject's
// (BACKWARD) compatibility check; rows on both sides of every change
// decode to their canonical row JSON; and a restart in the middle (a new
// source resuming from the journal, to which PostgreSQL resends Relation
// messages) records no schema entry twice.
func TestSchemaEvolution(t *testing.T) {
	pg := fixtures.SharedPostgres(t)
	conn := sqlConn(t, pg.DSN())
	mustExec(t, conn, `CREATE TABLE evo (id int PRIMARY KEY, name text NOT NULL, n int)`)
	cfg := testConfig(pg.DSN(), "evo")
	r := startCapture(t, cfg)

	type step struct {
		what       string
		ddl, dml   string
		compatible bool   // the recorded verdict (BACKWARD)
		rows       string // the rows the dml inserts/updates, as captured (after images)
		restart    bool   // stop the source and start a new one after this step
	}
	// The first restart waits until the slot confirmed everything, so
	// PostgreSQL resends no transaction, only Relation messages; the
	// second restarts at once and gets the last transaction again too.
	restarts := 0
	steps := []step{
		{"v1", ``, `INSERT INTO evo VALUES (1, 'one', 10)`, true,
			`{"id":1,"name":"one","n":10}`, false},
		{"add a nullable column", `ALTER TABLE evo ADD COLUMN note text`,
			`INSERT INTO evo VALUES (2, 'two', 20, 'x'); UPDATE evo SET n = 11 WHERE id = 1`, true,
			`{"id":2,"name":"two","n":20,"note":"x"}|{"id":1,"name":"one","n":11,"note":null}`, false},
		{"add a NOT NULL column with a default", `ALTER TABLE evo ADD COLUMN qty int NOT NULL DEFAULT 0`,
			`INSERT INTO evo VALUES (3, 'three', 30, NULL, 5)`, true,
			`{"id":3,"name":"three","n":30,"note":null,"qty":5}`, true},
		{"same shape after the restart", ``,
			`INSERT INTO evo VALUES (33, 'thirty-three', 33, 'y', 3)`, true,
			`{"id":33,"name":"thirty-three","n":33,"note":"y","qty":3}`, false},
		{"drop a column", `ALTER TABLE evo DROP COLUMN note`,
			`INSERT INTO evo VALUES (4, 'four', 40, 6)`, true,
			`{"id":4,"name":"four","n":40,"qty":6}`, false},
		{"widen int to bigint", `ALTER TABLE evo ALTER COLUMN n TYPE bigint`,
			`INSERT INTO evo VALUES (5, 'five', 5000000000, 7)`, true,
			`{"id":5,"name":"five","n":5000000000,"qty":7}`, true},
		{"change text to int", `ALTER TABLE evo ALTER COLUMN name TYPE int USING length(name)`,
			`INSERT INTO evo VALUES (6, 66, 60, 8)`, false,
			`{"id":6,"name":66,"n":60,"qty":8}`, false},
	}
	var want []string
	for _, s := range steps {
		if s.ddl != "" {
			mustExec(t, conn, s.ddl)
		}
		mustExec(t, conn, s.dml)
		want = append(want, strings.Split(s.rows, "|")...)
		r.WaitChanges(t, len(want))
		if s.restart {
			if restarts == 0 {
				waitConfirmed(t, conn, cfg.Slot)
			}
			restarts++
			r.Stop(t)
			r.Start(t, newSource(t, cfg))
		}
	}
	recs := journaltestReadAll(t, r)

	// One schema entry per version, in order, each before its first use.
	var schemas []journal.Record
	recorded := map[string]bool{}
	for _, rec := range recs {
		switch rec.Kind {
		case journal.KindSchema:
			if recorded[string(rec.SchemaFingerprint)] {
				t.Errorf("seq %d records fingerprint %x a second time", rec.Seq, rec.SchemaFingerprint)
			}
			recorded[string(rec.SchemaFingerprint)] = true
			schemas = append(schemas, rec)
		case journal.KindChange:
			if !recorded[string(rec.SchemaFingerprint)] {
				t.Errorf("change seq %d uses fingerprint %x before it is recorded", rec.Seq, rec.SchemaFingerprint)
			}
			if !bytes.Equal(rec.SchemaFingerprint, schemas[len(schemas)-1].SchemaFingerprint) {
				t.Errorf("change seq %d uses %x, not the latest version", rec.Seq, rec.SchemaFingerprint)
			}
		}
	}
	var versions []step // the steps that change the shape
	for i, s := range steps {
		if i == 0 || s.ddl != "" {
			versions = append(versions, s)
		}
	}
	if len(schemas) != len(versions) {
		t.Fatalf("%d schema entries, want %d (one per version)", len(schemas), len(versions))
	}
	for i, s := range schemas {
		if s.Table != "public.evo" || s.Metadata["compatible"] != boolText(versions[i].compatible) {
			t.Errorf("version %d (%s): table %s, compatible %s, want %v", i+1, versions[i].what, s.Table, s.Metadata["compatible"], versions[i].compatible)
		}
		reg, err := schema.UnmarshalRegistration(s.Payload)
		if err != nil || reg.Subject != "evo.public.evo" {
			t.Errorf("version %d: registration %s: %v", i+1, reg.Subject, err)
		}
		// The schema entry takes no change index: its position is the
		// previous entry's plus one byte.
		if prev := recs[s.Seq-2]; !bytes.Equal(s.SourcePosition, append(append([]byte(nil), prev.SourcePosition...), schemaPositionMark)) {
			t.Errorf("version %d at position %x after %x", i+1, s.SourcePosition, prev.SourcePosition)
		}
	}

	// A registry rebuilt from the journal gives the same versions and verdicts.
	rebuilt, err := schema.NewRegistry(schema.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range schemas {
		reg, err := schema.UnmarshalRegistration(s.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := rebuilt.Apply(reg); err != nil {
			t.Fatal(err)
		}
	}
	vs, err := rebuilt.Versions("evo.public.evo")
	if err != nil || len(vs) != len(versions) {
		t.Fatalf("rebuilt registry versions %v, %v", vs, err)
	}
	for i := range versions {
		v, _ := rebuilt.Version("evo.public.evo", i+1)
		if v.Compatible != versions[i].compatible {
			t.Errorf("rebuilt version %d (%s): compatible %v (%s), want %v", i+1, versions[i].what, v.Compatible, v.Reason, versions[i].compatible)
		}
	}

	// Every row decodes to its canonical row JSON, on both sides of each change.
	var got []string
	for _, c := range changes(recs) {
		got = append(got, string(c.After))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// waitConfirmed waits until the slot has confirmed the server's current WAL position.
func waitConfirmed(t *testing.T, conn *pgx.Conn, slot string) {
	t.Helper()
	ctx := context.Background()
	var lsn string
	if err := conn.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&lsn); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var done bool
		if err := conn.QueryRow(ctx, `SELECT confirmed_flush_lsn >= $1::pg_lsn FROM pg_replication_slots WHERE slot_name = $2`, lsn, slot).Scan(&done); err != nil {
			t.Fatal(err)
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("slot %s did not confirm %s in 30s", slot, lsn)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func journaltestReadAll(t *testing.T, r *capturetest.Loop) []journal.Record {
	return readAll(t, r.Store, "evo")
}

// TestNewEnumLabel adds an enum label, which changes no table and so may
// come without a Relation message: the row with the new label still gets
// a new schema version recorded before it, and every row decodes.
func TestNewEnumLabel(t *testing.T) {
	pg := fixtures.SharedPostgres(t)
	conn := sqlConn(t, pg.DSN())
	mustExec(t, conn, `CREATE TYPE feeling AS ENUM ('sad', 'ok'); CREATE TABLE moods (id int PRIMARY KEY, f feeling NOT NULL)`)
	r := startCapture(t, testConfig(pg.DSN(), "enums"))
	mustExec(t, conn, `INSERT INTO moods VALUES (1, 'ok')`)
	r.WaitChanges(t, 1)
	mustExec(t, conn, `ALTER TYPE feeling ADD VALUE 'happy'`)
	mustExec(t, conn, `INSERT INTO moods VALUES (2, 'happy'); INSERT INTO moods VALUES (3, 'sad')`)
	recs := r.WaitChanges(t, 3)
	var schemas int
	for _, rec := range recs {
		if rec.Kind == journal.KindSchema {
			schemas++
		}
	}
	if schemas != 2 {
		t.Errorf("%d schema entries, want 2 (before and after the new label)", schemas)
	}
	var got []string
	for _, c := range changes(recs) {
		got = append(got, string(c.After))
	}
	if want := `{"id":1,"f":"ok"} {"id":2,"f":"happy"} {"id":3,"f":"sad"}`; strings.Join(got, " ") != want {
		t.Fatalf("rows %s, want %s", strings.Join(got, " "), want)
	}
}

// TestTableCompatibility: a table's configured mode decides the verdict.
// Widening int to bigint is BACKWARD compatible (see TestSchemaEvolution)
// but not FORWARD: old readers cannot read a long.
func TestTableCompatibility(t *testing.T) {
	pg := fixtures.SharedPostgres(t)
	conn := sqlConn(t, pg.DSN())
	mustExec(t, conn, `CREATE TABLE fwd (id int PRIMARY KEY, n int)`)
	cfg := testConfig(pg.DSN(), "fwdsrc")
	cfg.TableCompatibility = map[string]string{"public.fwd": "forward"}
	r := startCapture(t, cfg)
	mustExec(t, conn, `INSERT INTO fwd VALUES (1, 1)`)
	r.WaitChanges(t, 1)
	mustExec(t, conn, `ALTER TABLE fwd ALTER COLUMN n TYPE bigint`)
	mustExec(t, conn, `INSERT INTO fwd VALUES (2, 5000000000)`)
	recs := r.WaitChanges(t, 2)
	var verdicts []string
	for _, rec := range recs {
		if rec.Kind == journal.KindSchema {
			verdicts = append(verdicts, rec.Metadata["mode"]+"="+rec.Metadata["compatible"])
		}
	}
	if got := strings.Join(verdicts, " "); got != "FORWARD=true FORWARD=false" {
		t.Fatalf("verdicts %s, want FORWARD=true FORWARD=false", got)
	}
}

func TestCompatibilityConfigErrors(t *testing.T) {
	cfg := DefaultConfig("s", "postgres://x")
	cfg.Compatibility = "sometimes"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "compatibility") {
		t.Fatalf("bad default mode: %v", err)
	}
	cfg = DefaultConfig("s", "postgres://x")
	cfg.TableCompatibility = map[string]string{"a.b.c": "FULL"}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "table_compatibility") {
		t.Fatalf("bad table: %v", err)
	}
	cfg.TableCompatibility = map[string]string{"public.t": "FULLISH"}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "public.t") {
		t.Fatalf("bad table mode: %v", err)
	}
}
