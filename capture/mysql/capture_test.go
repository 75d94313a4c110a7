package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	_ "github.com/go-sql-driver/mysql"

	"github.com/cairnlog/cairn/capture"
	"github.com/cairnlog/cairn/capture/capturetest"
	"github.com/cairnlog/cairn/fixtures"
	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/journal/journaltest"
)

func testConfig(dsn, name string) Config {
	cfg := DefaultConfig(name, dsn)
	cfg.HeartbeatInterval = 500 * time.Millisecond
	return cfg
}

func newSource(t *testing.T, cfg Config) *Source {
	t.Helper()
	src, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func startCapture(t *testing.T, cfg Config) *capturetest.Loop {
	t.Helper()
	r := capturetest.NewLoop(t, cfg.Name)
	r.Start(t, newSource(t, cfg))
	return r
}

func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn+"?multiStatements=true")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// gtidPos is the server's GTID state: @@gtid_binlog_pos on MariaDB,
// @@gtid_executed on MySQL.
func gtidPos(t *testing.T, db *sql.DB) string {
	t.Helper()
	var version, p string
	if err := db.QueryRow(`SELECT @@version`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	q := `SELECT @@gtid_executed`
	if strings.Contains(strings.ToLower(version), "mariadb") {
		q = `SELECT @@gtid_binlog_pos`
	}
	if err := db.QueryRow(q).Scan(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

// countChanges counts the change entries of a stream.
func countChanges(t *testing.T, store journal.Store, stream string) int {
	t.Helper()
	n := 0
	for _, rec := range journaltest.ReadAll(t, store, stream) {
		if rec.Kind == journal.KindChange {
			n++
		}
	}
	return n
}

// txIDPattern is what a transaction's GTID looks like on each flavour.
var txIDPattern = map[string]*regexp.Regexp{
	flavorMariaDB: regexp.MustCompile(`^0-1-[0-9]+$`),
	flavorMySQL:   regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:[0-9]+$`),
}

// TestFramingAndDDL checks multi-table transactions keep commit order and
// framing, and that DDL mid-stream is journaled with rows on both sides
// carrying the right columns.
func TestFramingAndDDL(t *testing.T) {
	m := fixtures.SharedMariaDB(t)
	framingAndDDL(t, flavorMariaDB, m.DSN(), m.Database())
}

// TestMySQLFramingAndDDL is the same on MySQL: GTID sets, no BEGIN/Xid
// around DDL, binary JSON.
func TestMySQLFramingAndDDL(t *testing.T) {
	m := fixtures.SharedMySQL(t)
	framingAndDDL(t, flavorMySQL, m.DSN(), m.Database())
}

func framingAndDDL(t *testing.T, flavor, dsn, db0 string) {
	db := openDB(t, dsn)
	mustExec(t, db, `CREATE TABLE a (id INT PRIMARY KEY, v VARCHAR(10)); CREATE TABLE b (id INT PRIMARY KEY, n BIGINT)`)
	cfg := testConfig(dsn, "framing")
	cfg.StartGTID = gtidPos(t, db)
	r := startCapture(t, cfg)
	mustExec(t, db, `BEGIN; INSERT INTO a VALUES (1, 'x'); INSERT INTO b VALUES (1, 10); UPDATE a SET v = 'y' WHERE id = 1; COMMIT`)
	mustExec(t, db, `INSERT INTO b VALUES (2, 20)`)
	mustExec(t, db, `ALTER TABLE a ADD COLUMN c INT DEFAULT 7`)
	mustExec(t, db, `BEGIN; INSERT INTO a VALUES (2, 'z', 8); DELETE FROM b WHERE id = 1; COMMIT`)
	mustExec(t, db, `ALTER TABLE a DROP COLUMN v`)
	mustExec(t, db, `UPDATE a SET c = 9 WHERE id = 2`)
	recs := capturetest.MustRender(r.WaitChanges(t, 9))
	var got []string
	versions := map[string]int{}
	for _, rec := range recs {
		switch rec.Kind {
		case journal.KindSchema:
			versions[rec.Table]++
			if rec.Metadata["compatible"] != "true" || rec.Metadata["mode"] != "BACKWARD" {
				t.Errorf("seq %d: schema of %s recorded with %v, want compatible under BACKWARD", rec.Seq, rec.Table, rec.Metadata)
			}
			got = append(got, fmt.Sprintf("schema %s v%d", rec.Table, versions[rec.Table]))
		case journal.KindTxBegin:
			if !txIDPattern[flavor].MatchString(rec.TxID) {
				t.Errorf("seq %d: tx_id %q is not a %s GTID", rec.Seq, rec.TxID, flavor)
			}
			got = append(got, "begin "+rec.TxID)
		case journal.KindTxCommit:
			got = append(got, "commit "+rec.Metadata["changes"])
		case journal.KindChange:
			if rec.Op == journal.OpDDL {
				got = append(got, "ddl "+strings.Fields(string(rec.Payload))[3]+" "+strings.Fields(string(rec.Payload))[4])
				continue
			}
			got = append(got, fmt.Sprintf("%s %s %s %s -> %s", rec.Op, rec.Table, rec.Key, rec.Before, rec.After))
		}
	}
	want := []string{
		"begin", fmt.Sprintf("schema %s.a v1", db0), fmt.Sprintf(`insert %s.a {"id":1}  -> {"id":1,"v":"x"}`, db0),
		fmt.Sprintf("schema %s.b v1", db0), fmt.Sprintf(`insert %s.b {"id":1}  -> {"id":1,"n":10}`, db0),
		fmt.Sprintf(`update %s.a {"id":1} {"id":1,"v":"x"} -> {"id":1,"v":"y"}`, db0), "commit 3",
		"begin", fmt.Sprintf(`insert %s.b {"id":2}  -> {"id":2,"n":20}`, db0), "commit 1",
		"begin", "ddl ADD COLUMN", "commit 1",
		"begin", fmt.Sprintf("schema %s.a v2", db0), fmt.Sprintf(`insert %s.a {"id":2}  -> {"id":2,"v":"z","c":8}`, db0),
		fmt.Sprintf(`delete %s.b {"id":1} {"id":1,"n":10} -> `, db0), "commit 2",
		"begin", "ddl DROP COLUMN", "commit 1",
		"begin", fmt.Sprintf("schema %s.a v3", db0), fmt.Sprintf(`update %s.a {"id":2} {"id":2,"c":8} -> {"id":2,"c":9}`, db0), "commit 1",
	}
	if len(got) != len(want) {
		t.Fatalf("captured:\n%s", strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Fatalf("entry %d:\n got %s\nwant %s\nall:\n%s", i, got[i], want[i], strings.Join(got, "\n"))
		}
	}
	var prev []byte
	for _, rec := range recs {
		if string(rec.SourcePosition) <= string(prev) {
			t.Fatalf("seq %d: position does not rise", rec.Seq)
		}
		prev = rec.SourcePosition
		if rec.Kind == journal.KindChange && rec.Op != journal.OpDDL && len(rec.SchemaFingerprint) == 0 {
			t.Fatalf("seq %d: row change without a schema fingerprint (rows must be Avro)", rec.Seq)
		}
	}
}

// TestServerRestartAndPurgedBinlog restarts MariaDB mid-stream (capture
// reconnects and loses nothing), then purges binlogs the journal still
// needs: the next start fails permanently, naming the GTID.
func TestServerRestartAndPurgedBinlog(t *testing.T) {
	serverRestartAndPurgedBinlog(t, flavorMariaDB, fixtures.StartMariaDB(t, fixtures.MariaDBOptions{}))
}

// TestMySQLRestartAndPurgedBinlog is the same against MySQL.
func TestMySQLRestartAndPurgedBinlog(t *testing.T) {
	serverRestartAndPurgedBinlog(t, flavorMySQL, fixtures.StartMySQL(t, fixtures.MySQLOptions{}))
}

// restartableServer is what the restart test needs of a fixture.
type restartableServer interface {
	DSN() string
	Kill() error
	Restart(context.Context) error
	PurgeBinlogs(context.Context) error
}

func serverRestartAndPurgedBinlog(t *testing.T, flavor string, m restartableServer) {
	db := openDB(t, m.DSN())
	mustExec(t, db, `CREATE TABLE r (id INT PRIMARY KEY)`)
	cfg := testConfig(m.DSN(), "restart")
	cfg.StartGTID = gtidPos(t, db)
	r := startCapture(t, cfg)
	for i := 1; i <= 50; i++ {
		mustExec(t, db, `INSERT INTO r VALUES (?)`, i)
	}
	r.WaitChanges(t, 50)
	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := m.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	db2 := openDB(t, m.DSN())
	for i := 51; i <= 100; i++ {
		mustExec(t, db2, `INSERT INTO r VALUES (?)`, i)
	}
	recs := r.WaitChanges(t, 100)
	seen := map[string]bool{}
	for _, rec := range recs {
		if rec.Kind == journal.KindChange {
			if seen[string(rec.Key)] {
				t.Fatalf("row %s captured twice", rec.Key)
			}
			seen[string(rec.Key)] = true
		}
	}
	if len(seen) != 100 {
		t.Fatalf("captured %d rows, want 100", len(seen))
	}
	r.Stop(t)

	for i := 101; i <= 110; i++ {
		mustExec(t, db2, `INSERT INTO r VALUES (?)`, i)
	}
	if err := m.PurgeBinlogs(context.Background()); err != nil {
		t.Fatal(err)
	}
	src, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := capture.Resume{}, error(nil)
	if h, herr := r.Store.HighWater(context.Background(), "restart"); herr == nil {
		res.Position = h
	}
	err = src.Start(context.Background(), res)
	if err == nil {
		_, err = src.Next(context.Background())
	}
	src.Close()
	resumeAfter, _, _ := resumeGTID(res.Position)
	if !errors.Is(err, ErrBinlogPurged) || !errors.Is(err, capture.ErrPermanent) || resumeAfter == "" || !strings.Contains(err.Error(), resumeAfter) {
		t.Fatalf("start after the binlog was purged (journal resumes after %q): %v", resumeAfter, err)
	}
	// The error names exactly the transactions that are gone: the ten
	// inserts after the journal's last one.
	st, _ := parseGTIDState(flavor, resumeAfter)
	var gone string
	if flavor == flavorMySQL {
		for sid, tags := range st.set {
			last := tags[gomysql.Tag{}][len(tags[gomysql.Tag{}])-1].Stop - 1
			gone = fmt.Sprintf("%s:%d-%d", sid, last+1, last+10)
		}
	} else {
		g := st.domains[0]
		gone = fmt.Sprintf("0-%d-%d to 0-%d-%d", g.ServerID, g.SequenceNumber+1, g.ServerID, g.SequenceNumber+10)
	}
	t.Logf("start after the purge: %v", err)
	if !strings.Contains(err.Error(), gone) {
		t.Fatalf("the error should name the purged GTIDs %s: %v", gone, err)
	}
}

// TestMinimalRowMetadata captures from a server whose binlog carries no
// column names: names, signedness, enum members and the key come from
// information_schema, read again after DDL.
func TestMinimalRowMetadata(t *testing.T) {
	m := fixtures.StartMariaDB(t, fixtures.MariaDBOptions{Extra: map[string]string{"binlog_row_metadata": "MINIMAL"}})
	minimalRowMetadata(t, m.DSN())
}

// TestMySQLMinimalRowMetadata: MINIMAL is MySQL's default.
func TestMySQLMinimalRowMetadata(t *testing.T) {
	m := fixtures.StartMySQL(t, fixtures.MySQLOptions{Extra: map[string]string{"binlog_row_metadata": "MINIMAL"}})
	minimalRowMetadata(t, m.DSN())
}

func minimalRowMetadata(t *testing.T, dsn string) {
	db := openDB(t, dsn)
	mustExec(t, db, `CREATE TABLE t (id INT UNSIGNED PRIMARY KEY, e ENUM('a','b'), v VARCHAR(10))`)
	cfg := testConfig(dsn, "minimal")
	cfg.StartGTID = gtidPos(t, db)
	r := startCapture(t, cfg)
	mustExec(t, db, `INSERT INTO t VALUES (4294967295, 'b', 'x')`)
	// Live capture sees the insert before the DDL; catching up across a DDL
	// it did not see is the documented limit of MINIMAL metadata.
	r.WaitChanges(t, 1)
	mustExec(t, db, `ALTER TABLE t ADD COLUMN n BIGINT DEFAULT 5`)
	mustExec(t, db, `INSERT INTO t (id, e, v) VALUES (1, 'a', 'y')`)
	var got []string
	for _, rec := range capturetest.MustRender(r.WaitChanges(t, 3)) {
		if rec.Kind == journal.KindChange && rec.Op != journal.OpDDL {
			got = append(got, string(rec.Key)+" "+string(rec.After))
		}
	}
	want := []string{`{"id":4294967295} {"id":4294967295,"e":"b","v":"x"}`, `{"id":1} {"id":1,"e":"a","v":"y","n":5}`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("captured:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Catching up across a shape change it never saw fails loudly instead of
	// mislabelling columns.
	r.Stop(t)
	mustExec(t, db, `INSERT INTO t (id) VALUES (2)`)
	mustExec(t, db, `ALTER TABLE t ADD COLUMN late INT`)
	r.Start(t, newSource(t, cfg))
	if err, ended := r.Ended(30 * time.Second); !ended {
		t.Fatal("capture kept going across a shape change it could not see")
	} else if !errors.Is(err, ErrServerSettings) || !errors.Is(err, capture.ErrPermanent) || !strings.Contains(err.Error(), "binlog_row_metadata=FULL") {
		t.Fatalf("catching up across an unseen DDL: %v", err)
	}
}

// TestBadServerSettings refuses a server without a binlog and an unknown
// table, with errors that name the fix.
func TestBadServerSettings(t *testing.T) {
	nobin := fixtures.StartMariaDB(t, fixtures.MariaDBOptions{Extra: map[string]string{"log_bin": "OFF"}})
	src, err := New(testConfig(nobin.DSN(), "bad1"))
	if err != nil {
		t.Fatal(err)
	}
	err = src.Start(context.Background(), capture.Resume{})
	src.Close()
	if !errors.Is(err, ErrServerSettings) || !errors.Is(err, capture.ErrPermanent) || !strings.Contains(err.Error(), "--log-bin") {
		t.Fatalf("server without a binlog: %v", err)
	}
	good := fixtures.SharedMariaDB(t)
	c := testConfig(good.DSN(), "bad3")
	c.Tables = []string{good.Database() + ".nope"}
	src, _ = New(c)
	err = src.Start(context.Background(), capture.Resume{})
	src.Close()
	if !errors.Is(err, ErrUnknownTable) || !strings.Contains(err.Error(), ".nope") {
		t.Fatalf("unknown table: %v", err)
	}
	if err := DefaultConfig("x", "").Validate(); err == nil || !strings.Contains(err.Error(), "dsn") {
		t.Fatalf("missing dsn: %v", err)
	}
}

// TestMySQLBadServerSettings: MySQL without GTIDs is refused, naming the
// settings to change.
func TestMySQLBadServerSettings(t *testing.T) {
	m := fixtures.StartMySQL(t, fixtures.MySQLOptions{Extra: map[string]string{"gtid_mode": "OFF", "enforce_gtid_consistency": "OFF"}})
	src := newSource(t, testConfig(m.DSN(), "nogtid"))
	err := src.Start(context.Background(), capture.Resume{})
	src.Close()
	if !errors.Is(err, ErrServerSettings) || !errors.Is(err, capture.ErrPermanent) || !strings.Contains(err.Error(), "gtid_mode=ON") {
		t.Fatalf("MySQL with gtid_mode OFF: %v", err)
	}
	partial := fixtures.StartMySQL(t, fixtures.MySQLOptions{Extra: map[string]string{"binlog_row_value_options": "PARTIAL_JSON"}})
	src = newSource(t, testConfig(partial.DSN(), "partialjson"))
	err = src.Start(context.Background(), capture.Resume{})
	src.Close()
	if !errors.Is(err, ErrServerSettings) || !strings.Contains(err.Error(), "binlog_row_value_options=''") {
		t.Fatalf("MySQL with PARTIAL_JSON: %v", err)
	}
}

// TestMySQLCompressedTransactions: with binlog_transaction_compression a
// transaction's events arrive inside one compressed payload event; they
// are captured as if they were not.
func TestMySQLCompressedTransactions(t *testing.T) {
	m := fixtures.StartMySQL(t, fixtures.MySQLOptions{Extra: map[string]string{"binlog_transaction_compression": "ON"}})
	db := openDB(t, m.DSN())
	mustExec(t, db, `CREATE TABLE z (id INT PRIMARY KEY, v VARCHAR(100))`)
	cfg := testConfig(m.DSN(), "compressed")
	cfg.StartGTID = gtidPos(t, db)
	r := startCapture(t, cfg)
	mustExec(t, db, `BEGIN; INSERT INTO z VALUES (1, REPEAT('a', 100)), (2, 'b'); UPDATE z SET v = 'c' WHERE id = 2; COMMIT`)
	mustExec(t, db, `ALTER TABLE z ADD COLUMN n INT`)
	mustExec(t, db, `INSERT INTO z VALUES (3, 'd', 4)`)
	var got []string
	for _, rec := range capturetest.MustRender(r.WaitChanges(t, 5)) {
		switch rec.Kind {
		case journal.KindTxBegin, journal.KindTxCommit:
			got = append(got, rec.Kind.String())
		case journal.KindChange:
			if rec.Op == journal.OpDDL {
				got = append(got, "ddl")
				continue
			}
			got = append(got, fmt.Sprintf("%s %s", rec.Op, rec.After))
		}
	}
	want := []string{"tx_begin", `insert {"id":1,"v":"` + strings.Repeat("a", 100) + `"}`, `insert {"id":2,"v":"b"}`, `update {"id":2,"v":"c"}`, "tx_commit",
		"tx_begin", "ddl", "tx_commit", "tx_begin", `insert {"id":3,"v":"d","n":4}`, "tx_commit"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("captured:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The test proves something only if the server really compressed.
	st, _ := parseGTIDState(flavorMySQL, cfg.StartGTID)
	gset, _ := st.syncSet()
	syncer := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID: 1<<29 + rand.Uint32N(1<<28), Flavor: flavorMySQL, Host: m.Host(), Port: uint16(m.Port()), User: m.User(),
		Logger: slog.New(slog.DiscardHandler),
	})
	defer syncer.Close()
	streamer, err := syncer.StartSyncGTID(gset)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for payloads := 0; payloads < 2; {
		ev, err := streamer.GetEvent(ctx)
		if err != nil {
			t.Fatalf("%d compressed transaction payloads in the binlog, want 2: %v", payloads, err)
		}
		if _, ok := ev.Event.(*replication.TransactionPayloadEvent); ok {
			payloads++
		}
	}
}

// TestMySQLPasswordUser captures as a dedicated user with a password and
// only the documented privileges, as production does: MySQL 9 then runs
// caching_sha2_password's full authentication on both connections (SQL
// and binlog) over plain TCP.
func TestMySQLPasswordUser(t *testing.T) {
	m := fixtures.StartMySQL(t, fixtures.MySQLOptions{})
	root := openDB(t, m.DSN())
	mustExec(t, root, `CREATE TABLE p (id INT PRIMARY KEY)`)
	mustExec(t, root, `CREATE USER 'cairn'@'%' IDENTIFIED BY 's3cret-pw'`)
	mustExec(t, root, `GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'cairn'@'%'`)
	mustExec(t, root, `GRANT SELECT ON `+m.Database()+`.* TO 'cairn'@'%'`)
	dsn := fmt.Sprintf("cairn:s3cret-pw@tcp(%s)/%s", m.Addr(), m.Database())
	cfg := testConfig(dsn, "pwuser")
	cfg.StartGTID = gtidPos(t, root)
	r := startCapture(t, cfg)
	mustExec(t, root, `INSERT INTO p VALUES (1), (2)`)
	recs := capturetest.MustRender(r.WaitChanges(t, 2))
	var got []string
	for _, rec := range recs {
		if rec.Kind == journal.KindChange {
			got = append(got, string(rec.After))
		}
	}
	if strings.Join(got, " ") != `{"id":1} {"id":2}` {
		t.Fatalf("captured %q", got)
	}
}
