package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/cairnlog/cairn/capture"
	"github.com/cairnlog/cairn/fixtures"
	"github.com/cairnlog/cairn/journal"
)

const allTypesDDL = `
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TABLE alltypes (
  id int PRIMARY KEY,
  c_int2 int2, c_int4 int4, c_int8 int8, c_oid oid,
  c_numeric numeric, c_numeric_s numeric(12,2), c_float4 float4, c_float8 float8,
  c_bool bool, c_text text, c_varchar varchar(20), c_char char(5), c_bytea bytea, c_uuid uuid,
  c_json json, c_jsonb jsonb,
  c_date date, c_time time, c_timetz timetz, c_ts timestamp(6), c_tstz timestamptz, c_interval interval,
  c_int_arr int4[], c_text_arr text[], c_2d int4[][], c_enum mood, c_domain posint,
  c_inet inet, c_cidr cidr, c_macaddr macaddr, c_money money, c_bit bit(4), c_varbit varbit(8), c_xml xml,
  c_int4range int4range, c_tstzrange tstzrange, c_point point, c_box_arr box[]
);`

const allTypesRows = `
INSERT INTO alltypes VALUES (1,
  -32768, 2147483647, -9223372036854775808, 4294967295,
  123456789012345678901234567890.123456789, 12.50, 1.5, 3.141592653589793,
  true, 'plain text', 'vc', 'ab', '\x00ff10', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '{"b": 1,  "a": [1, 2]}', '{"b": 1, "a": [1, 2]}',
  '2026-11-26', '03:04:05.123456', '03:04:05+02', '2026-11-26 03:04:05.5', '2026-11-26 03:04:05.123+05:30', '1 year 2 mons 3 days 04:05:06.7',
  '{1,2,3}', '{"a,b","c\"d",NULL,"NULL",""}', '{{1,2},{3,4}}', 'happy', 42,
  '192.168.1.5/24', '10.0.0.0/8', '08:00:2b:01:02:03', 12.34, B'1010', B'101', '<a>x</a>',
  '[1,10)', '[2026-01-01 00:00:00+00,2026-02-01 00:00:00+00)', '(1.5,-2)', '{(1,1),(0,0);(2,2),(1,1)}');
INSERT INTO alltypes (id, c_numeric, c_float4, c_float8, c_text, c_date, c_ts, c_tstz, c_int_arr, c_text_arr, c_bytea, c_jsonb) VALUES (2,
  'NaN', 'NaN', '-Infinity', E'quote " backslash \\ newline \n tab \t unicode ☃', 'infinity', '-infinity', 'infinity',
  '{}', '{" spaced ","}"}', '\x', '"just a string"');
INSERT INTO alltypes (id, c_float8, c_numeric) VALUES (3, '-0', '-1e-20');
INSERT INTO alltypes (id) VALUES (4);`

// TestTypesRoundTrip writes one column of every built-in type family and
// checks that every captured value renders back to exactly what
// PostgreSQL prints for it (its output function, which is what ::text
// gives for every type but bool and char(n)).
func TestTypesRoundTrip(t *testing.T) {
	pg := fixtures.SharedPostgres(t)
	conn := sqlConn(t, pg.DSN())
	mustExec(t, conn, allTypesDDL)
	r := startCapture(t, testConfig(pg.DSN(), "types"))
	mustExec(t, conn, allTypesRows)
	recs := changes(r.WaitChanges(t, 4))

	ts, err := LoadTypes(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	cols := map[string]uint32{}
	rows, err := conn.Query(context.Background(), `SELECT attname, atttypid FROM pg_attribute WHERE attrelid = 'alltypes'::regclass AND attnum > 0 AND NOT attisdropped`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		var oid uint32
		if err := rows.Scan(&n, &oid); err != nil {
			t.Fatal(err)
		}
		cols[n] = oid
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	checked := 0
	for _, rec := range recs {
		if rec.Table != "public.alltypes" || rec.Op != journal.OpInsert {
			t.Fatalf("unexpected change %s %s", rec.Table, rec.Op)
		}
		after := row(t, rec.After)
		var id int
		if err := json.Unmarshal(after["id"], &id); err != nil {
			t.Fatalf("id: %v", err)
		}
		if string(rec.Key) != fmt.Sprintf(`{"id":%d}`, id) {
			t.Fatalf("key %s for row %d", rec.Key, id)
		}
		for col, oid := range cols {
			want := printed(t, conn, fmt.Sprintf("SELECT %s FROM alltypes WHERE id = %d", col, id))
			ti, ok := ts.Lookup(oid)
			if !ok {
				t.Fatalf("type %d of %s unknown", oid, col)
			}
			got, isNull, err := TextOf(ti, after[col])
			if err != nil {
				t.Errorf("row %d %s: canonical %s: %v", id, col, after[col], err)
				continue
			}
			switch {
			case want == nil && !isNull:
				t.Errorf("row %d %s: PostgreSQL has NULL, captured %s", id, col, after[col])
			case want != nil && isNull:
				t.Errorf("row %d %s: PostgreSQL has %q, captured null", id, col, *want)
			case want != nil && got != *want:
				t.Errorf("row %d %s: PostgreSQL prints %q, captured %s renders %q", id, col, *want, after[col], got)
			}
			checked++
		}
	}
	if checked < 4*30 {
		t.Fatalf("checked only %d values", checked)
	}
	// Spot-check the JSON typing that consumers rely on.
	first := row(t, recs[0].After)
	for col, want := range map[string]string{
		"c_int8": `-9223372036854775808`, "c_numeric_s": `"12.50"`, "c_bool": `true`, "c_float4": `1.5`,
		"c_int_arr": `[1,2,3]`, "c_2d": `[[1,2],[3,4]]`, "c_jsonb": `"{\"a\": [1, 2], \"b\": 1}"`, "c_domain": `42`, "c_enum": `"happy"`,
	} {
		if string(first[col]) != want {
			t.Errorf("%s captured as %s, want %s", col, first[col], want)
		}
	}
}

// printed returns a single value as PostgreSQL's output function prints it
// (the simple protocol returns text), or nil for NULL. Unlike ::text it
// keeps char(n) padding and prints booleans as t/f, as pgoutput does.
func printed(t *testing.T, conn *pgx.Conn, sql string) *string {
	t.Helper()
	rows, err := conn.Query(context.Background(), sql, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatalf("%s: no row (%v)", sql, rows.Err())
	}
	raw := rows.RawValues()[0]
	if raw == nil {
		return nil
	}
	s := string(raw)
	return &s
}

// TestFramingAndOrder runs concurrent transactions and checks that each
// becomes tx_begin, its changes, tx_commit, contiguous and in commit order.
func TestFramingAndOrder(t *testing.T) {
	pg := fixtures.SharedPostgres(t)
	conn := sqlConn(t, pg.DSN())
	mustExec(t, conn, `CREATE TABLE orders (id bigint PRIMARY KEY, worker int, tx int, note text)`)
	r := startCapture(t, testConfig(pg.DSN(), "framing"))
	const workers, txs, rows = 4, 25, 5
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := sqlConn(t, pg.DSN())
			for x := 0; x < txs; x++ {
				tx, err := c.Begin(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				for i := 0; i < rows; i++ {
					id := (w*txs+x)*rows + i
					if _, err := tx.Exec(context.Background(), `INSERT INTO orders VALUES ($1, $2, $3, 'n')`, id, w, x); err != nil {
						t.Error(err)
						return
					}
				}
				if err := tx.Commit(context.Background()); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	recs := withoutSchemas(r.WaitChanges(t, workers*txs*rows))
	seen := map[string]bool{}
	var prevPos []byte
	for i := 0; i < len(recs); {
		b := recs[i]
		if b.Kind != journal.KindTxBegin {
			t.Fatalf("seq %d: %s where a tx_begin belongs", b.Seq, b.Kind)
		}
		j := i + 1
		for ; j < len(recs) && recs[j].Kind == journal.KindChange; j++ {
			c := recs[j]
			if c.TxID != b.TxID || !c.CommitTime.Equal(b.CommitTime) {
				t.Fatalf("seq %d: change of tx %s inside tx %s", c.Seq, c.TxID, b.TxID)
			}
			a := row(t, c.After)
			k := string(a["worker"]) + "/" + string(a["tx"])
			if i+1 < j && k != string(row(t, recs[i+1].After)["worker"])+"/"+string(row(t, recs[i+1].After)["tx"]) {
				t.Fatalf("seq %d: rows of two transactions interleaved", c.Seq)
			}
			if seen[string(c.Key)] {
				t.Fatalf("row %s captured twice", c.Key)
			}
			seen[string(c.Key)] = true
		}
		if j >= len(recs) || recs[j].Kind != journal.KindTxCommit {
			t.Fatalf("tx %s starting at seq %d has no tx_commit after its changes", b.TxID, b.Seq)
		}
		cm := recs[j]
		if cm.Metadata["changes"] != fmt.Sprint(j-i-1) || cm.TxID != b.TxID || cm.Metadata["pg.end_lsn"] == "" {
			t.Fatalf("tx_commit seq %d: metadata %v for %d changes", cm.Seq, cm.Metadata, j-i-1)
		}
		for k := i; k <= j; k++ {
			if string(recs[k].SourcePosition) <= string(prevPos) {
				t.Fatalf("seq %d: position %x does not rise after %x", recs[k].Seq, recs[k].SourcePosition, prevPos)
			}
			prevPos = recs[k].SourcePosition
		}
		i = j + 1
	}
	if len(seen) != workers*txs*rows {
		t.Fatalf("captured %d rows, inserted %d", len(seen), workers*txs*rows)
	}
}

// TestTruncateIdentityAndToast covers TRUNCATE, REPLICA IDENTITY FULL and
// DEFAULT before-images, key changes and unchanged TOAST values.
func TestTruncateIdentityAndToast(t *testing.T) {
	pg := fixtures.SharedPostgres(t)
	conn := sqlConn(t, pg.DSN())
	mustExec(t, conn, `CREATE TABLE full_t (id int PRIMARY KEY, v text); ALTER TABLE full_t REPLICA IDENTITY FULL;
		CREATE TABLE def_t (id int PRIMARY KEY, v text);
		CREATE TABLE toast_t (id int PRIMARY KEY, big text, n int);
		ALTER TABLE toast_t ALTER COLUMN big SET STORAGE EXTERNAL;`)
	r := startCapture(t, testConfig(pg.DSN(), "ident"))
	big := strings.Repeat("0123456789abcdef", 1024) // 16 KiB, stored out of line
	mustExec(t, conn, `INSERT INTO full_t VALUES (1, 'a'); UPDATE full_t SET v = 'b' WHERE id = 1; DELETE FROM full_t WHERE id = 1;`)
	mustExec(t, conn, `INSERT INTO def_t VALUES (1, 'a'); UPDATE def_t SET v = 'b' WHERE id = 1; UPDATE def_t SET id = 2 WHERE id = 1; DELETE FROM def_t WHERE id = 2;`)
	mustExec(t, conn, `INSERT INTO toast_t VALUES (1, $1, 0)`, big)
	mustExec(t, conn, `UPDATE toast_t SET n = 1 WHERE id = 1`)
	mustExec(t, conn, `TRUNCATE def_t, full_t`)
	recs := changes(r.WaitChanges(t, 11))
	type want struct{ table, op, key, before, after string }
	wants := []want{
		{"public.full_t", "insert", `{"id":1}`, ``, `{"id":1,"v":"a"}`},
		{"public.full_t", "update", `{"id":1}`, `{"id":1,"v":"a"}`, `{"id":1,"v":"b"}`},
		{"public.full_t", "delete", `{"id":1}`, `{"id":1,"v":"b"}`, ``},
		{"public.def_t", "insert", `{"id":1}`, ``, `{"id":1,"v":"a"}`},
		{"public.def_t", "update", `{"id":1}`, ``, `{"id":1,"v":"b"}`},
		{"public.def_t", "update", `{"id":2}`, `{"id":1}`, `{"id":2,"v":"b"}`},
		{"public.def_t", "delete", `{"id":2}`, `{"id":2}`, ``},
		{"public.toast_t", "insert", `{"id":1}`, ``, `{"id":1,"big":"` + big + `","n":0}`},
		{"public.toast_t", "update", `{"id":1}`, ``, `{"id":1,"big":{"$unchanged":true},"n":1}`},
	}
	for i, w := range wants {
		c := recs[i]
		if c.Table != w.table || c.Op.String() != w.op || string(c.Key) != w.key || string(c.Before) != w.before || string(c.After) != w.after {
			t.Errorf("change %d:\n got %s %s key=%s before=%.80s after=%.80s\nwant %s %s key=%s before=%.80s after=%.80s",
				i, c.Table, c.Op, c.Key, c.Before, c.After, w.table, w.op, w.key, w.before, w.after)
		}
	}
	var truncated []string
	for _, c := range recs[len(wants):] {
		if c.Op != journal.OpTruncate {
			t.Fatalf("expected truncates after the row changes, got %s %s", c.Table, c.Op)
		}
		truncated = append(truncated, c.Table)
	}
	if strings.Join(truncated, ",") != "public.def_t,public.full_t" && strings.Join(truncated, ",") != "public.full_t,public.def_t" {
		t.Fatalf("truncated %v", truncated)
	}
}

// TestLiveSchemaChanges adds a column and a table to the publication while
// capture runs.
func TestLiveSchemaChanges(t *testing.T) {
	pg := fixtures.SharedPostgres(t)
	conn := sqlConn(t, pg.DSN())
	mustExec(t, conn, `CREATE TABLE a (id int PRIMARY KEY, v text); CREATE TABLE b (id int PRIMARY KEY)`)
	cfg := testConfig(pg.DSN(), "live")
	cfg.Tables = []string{"public.a"}
	r := startCapture(t, cfg)
	mustExec(t, conn, `INSERT INTO a VALUES (1, 'x'); INSERT INTO b VALUES (1)`)
	r.WaitChanges(t, 1)
	mustExec(t, conn, `ALTER TABLE a ADD COLUMN extra int DEFAULT 7; INSERT INTO a VALUES (2, 'y', 8)`)
	mustExec(t, conn, `ALTER PUBLICATION cairn_live ADD TABLE b; INSERT INTO b VALUES (2)`)
	recs := changes(r.WaitChanges(t, 3))
	got := []string{}
	for _, c := range recs {
		got = append(got, c.Table+" "+string(c.After))
	}
	want := []string{`public.a {"id":1,"v":"x"}`, `public.a {"id":2,"v":"y","extra":8}`, `public.b {"id":2}`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("captured:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func withUser(t *testing.T, dsn, user string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(user)
	return u.String()
}

// TestBadConfiguration checks each misconfiguration fails fast, permanently,
// with an error that names the fix.
func TestBadConfiguration(t *testing.T) {
	pg := fixtures.SharedPostgres(t)
	conn := sqlConn(t, pg.DSN())
	mustExec(t, conn, `CREATE ROLE norepl LOGIN`)
	t.Cleanup(func() { conn.Exec(context.Background(), `DROP ROLE IF EXISTS norepl`) })
	if err := DefaultConfig("x", "").Validate(); err == nil || !strings.Contains(err.Error(), "dsn") {
		t.Fatalf("missing dsn: %v", err)
	}
	cases := []struct {
		name string
		cfg  Config
		want error
		hint string
	}{
		{"unknown table", func() Config { c := testConfig(pg.DSN(), "bad1"); c.Tables = []string{"public.nope"}; return c }(), ErrUnknownTable, "public.nope"},
		{"no replication privilege", testConfig(withUser(t, pg.DSN(), "norepl"), "bad2"), ErrPrivilege, "ALTER ROLE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src, err := New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			err = src.Start(context.Background(), capture.Resume{})
			src.Close()
			if !errors.Is(err, tc.want) || !errors.Is(err, capture.ErrPermanent) || !strings.Contains(err.Error(), tc.hint) {
				t.Fatalf("got %v, want a permanent %v mentioning %q", err, tc.want, tc.hint)
			}
		})
	}
	t.Run("wal_level replica", func(t *testing.T) {
		replica := fixtures.StartPostgres(t, fixtures.PostgresOptions{ExtraConf: map[string]string{"wal_level": "replica"}})
		src, _ := New(testConfig(replica.DSN(), "bad3"))
		err := src.Start(context.Background(), capture.Resume{})
		src.Close()
		if !errors.Is(err, ErrWALLevel) || !strings.Contains(err.Error(), "wal_level = logical") {
			t.Fatalf("got %v, want ErrWALLevel naming the fix", err)
		}
	})
}
