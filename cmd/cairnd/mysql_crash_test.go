package main

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/cairnlog/cairn/capture/capturetest"
	"github.com/cairnlog/cairn/fixtures"
	"github.com/cairnlog/cairn/journal"
)

func writeMySQLConfig(t *testing.T, dir, dsn, startGTID string, serverID int, metrics string) string {
	t.Helper()
	path := filepath.Join(dir, "cairnd.yaml")
	body := fmt.Sprintf(`data_dir: %s
log_level: warn
metrics_listen: %s
sources:
  - name: shop
    type: mysql
    dsn: '%s'
    server_id: %d
    start_gtid: '%s'
`, filepath.Join(dir, "data"), metrics, dsn, serverID, startGTID)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var headSeqRE = regexp.MustCompile(`cairn_journal_head_seq\{stream="shop"\} (\d+)`)

func scrapeHead(addr string) uint64 {
	m := headSeqRE.FindStringSubmatch(scrape(addr))
	if m == nil {
		return 0
	}
	n, _ := strconv.ParseUint(m[1], 10, 64)
	return n
}

// runMySQLToEnd runs cairnd until its journal holds want entries.
func runMySQLToEnd(t *testing.T, config, addr string, want uint64) {
	t.Helper()
	d := startDaemon(t, config)
	deadline := time.Now().Add(3 * time.Minute)
	for scrapeHead(addr) < want {
		if time.Now().After(deadline) {
			t.Fatalf("cairnd stopped at %d of %d entries:\n%s", scrapeHead(addr), want, d.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.term(t)
}

// TestMySQLCrashDeterminism captures the same 201,000 binlog changes twice,
// once cleanly and once while cairnd is SIGKILLed at least 20 times: both
// journals end with the same head hash, with no gap and no duplicate.
func TestMySQLCrashDeterminism(t *testing.T) {
	m := fixtures.StartMariaDB(t, fixtures.MariaDBOptions{})
	mysqlCrashDeterminism(t, m.DSN(), `SELECT @@gtid_binlog_pos`)
}

// TestMySQLFlavorCrashDeterminism is the same run against MySQL (GTID
// sets instead of MariaDB domains).
func TestMySQLFlavorCrashDeterminism(t *testing.T) {
	m := fixtures.StartMySQL(t, fixtures.MySQLOptions{})
	mysqlCrashDeterminism(t, m.DSN(), `SELECT @@gtid_executed`)
}

func mysqlCrashDeterminism(t *testing.T, dsn, posQuery string) {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE TABLE orders (id BIGINT PRIMARY KEY, customer BIGINT, amount DECIMAL(12,2), note TEXT, status VARCHAR(16), updated DATETIME(6))`)
	exec(`CREATE TABLE nums (n INT PRIMARY KEY)`) // 1..1000, written before the captured range
	nums := make([]string, 1000)
	for i := range nums {
		nums[i] = fmt.Sprintf("(%d)", i+1)
	}
	exec(`INSERT INTO nums VALUES ` + strings.Join(nums, ","))
	var start string
	if err := db.QueryRow(posQuery).Scan(&start); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 180; i++ {
		exec(`INSERT INTO orders SELECT k, k % 977, (k % 10000) / 100, CONCAT('note ', k), 'new', TIMESTAMP('2026-11-26') + INTERVAL k SECOND
			FROM (SELECT n + ? AS k FROM nums) x`, i*1000)
	}
	// A shape change mid-stream: the updates after it carry the new
	// column, under a second schema version.
	exec(`ALTER TABLE orders ADD COLUMN region VARCHAR(8) DEFAULT 'eu'`)
	for i := 0; i < 2000; i++ {
		exec(`UPDATE orders SET status = 'paid' WHERE id = ?`, i*7+1)
	}
	exec(`UPDATE orders SET amount = amount + 1 WHERE id % 10 = 0`)
	exec(`DELETE FROM orders WHERE id > 179000`)
	const txs = 180 + 1 + 2000 + 1 + 1
	const want = 201000 + 2*txs + 1 + 2 // changes, frames, the DDL entry, two schema entries

	addrA := freeAddr(t)
	dirA := t.TempDir()
	runMySQLToEnd(t, writeMySQLConfig(t, dirA, dsn, start, 7001, addrA), addrA, want)
	ja := openJournal(t, dirA)
	headA, err := ja.Head(t.Context(), "shop")
	if err != nil {
		t.Fatal(err)
	}
	recsA := readAll(t, ja)
	ja.Close()
	if headA.Seq != want {
		t.Fatalf("clean run holds %d entries, want %d", headA.Seq, want)
	}

	addrB := freeAddr(t)
	dirB := t.TempDir()
	configB := writeMySQLConfig(t, dirB, dsn, start, 7002, addrB)
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for kill := 1; kill <= 20; kill++ {
		d := startDaemon(t, configB)
		// Short lives, so the kills land all through the capture.
		time.Sleep(time.Duration(40+rng.Intn(110)) * time.Millisecond)
		d.kill()
		if _, err := os.Stat(filepath.Join(dirB, "data")); errors.Is(err, fs.ErrNotExist) {
			t.Logf("kill %d: before cairnd created its journal", kill) // a slow start under load
			continue
		}
		jb := openJournal(t, dirB)
		recsB := readAll(t, jb)
		jb.Close()
		for i, r := range recsB {
			if r.Hash != recsA[i].Hash {
				t.Fatalf("kill %d: seq %d differs from the clean run", kill, r.Seq)
			}
		}
		t.Logf("kill %d: journal holds %d of %d entries", kill, len(recsB), want)
	}
	runMySQLToEnd(t, configB, addrB, want)
	jb := openJournal(t, dirB)
	defer jb.Close()
	headB, err := jb.Head(t.Context(), "shop")
	if err != nil {
		t.Fatal(err)
	}
	if headA != headB {
		t.Fatalf("journals differ after 20 kills:\nclean %d %s\ncrash %d %s", headA.Seq, headA.Hash, headB.Seq, headB.Hash)
	}
	if _, err := journal.VerifyStream(t.Context(), jb, "shop", jb.VerifierKey(), false, nil); err != nil {
		t.Fatal(err)
	}
	// Rows are Avro under two schema versions; rendered back, the first
	// update after the ALTER shows the new column's default.
	var updated string
	for _, r := range capturetest.MustRender(readAll(t, jb)) {
		if r.Kind == journal.KindChange && r.Op == journal.OpUpdate && string(r.Key) == `{"id":1}` {
			updated = string(r.After)
			break
		}
	}
	if want := `{"id":1,"customer":1,"amount":"0.01","note":"note 1","status":"paid","updated":"2026-11-26 00:00:01.000000","region":"eu"}`; updated != want {
		t.Fatalf("row 1 after its update renders as\n%s\nwant\n%s", updated, want)
	}
	t.Logf("201000 changes, %d entries, 20 kills, head %s", headB.Seq, headB.Hash)
}
