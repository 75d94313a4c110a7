package main

// mysql-catchup: how fast Cairn drains a MariaDB or MySQL binlog backlog
// into the durable journal, against the server's own binlog client
// (mariadb-binlog -v or mysqlbinlog -v) decoding the same binlog files to
// /dev/null.
//
//	go run ./loadtest mysql-catchup [-server mariadb|mysql] [-inserts 1000000] [-updates 500000] [-chunk 10000] [-rounds 3] [-dir DIR] [-cpuprofile FILE]
//	go run ./loadtest mysql-catchup -inserts 20000 -updates 10000                  # MariaDB smoke run (about 5 s; start-up dominates)
//	go run ./loadtest mysql-catchup -server mysql -inserts 20000 -updates 10000    # MySQL smoke run
//
// The steps are the same for both servers; what differs (GTID form, how
// rows are generated, the reference program and how its output names a
// GTID) is a myTarget, in mysqlcatchup_servers.go. The
// reference is run by mysqlcatchup_ref.go, Cairn by drainMySQLCairn below.
//
// Steps, on a fresh server from fixtures.LaunchMariaDB or
// fixtures.LaunchMySQL (the fixtures' settings: binlog_format=ROW,
// binlog_row_image=FULL, binlog_row_metadata=FULL,
// innodb_flush_log_at_trx_commit=2, sync_binlog=0; MySQL with gtid_mode=ON),
// stopped at the end, also on error or Ctrl-C:
//  1. Create the orders table in the DSN's database (bigint id, bigint,
//     decimal(12,2), text, text, datetime(6); InnoDB), then FLUSH BINARY
//     LOGS, so the workload starts a binlog file of its own, and record
//     before = the GTID position (MariaDB @@gtid_binlog_pos, MySQL
//     @@gtid_executed).
//  2. Write the backlog (MariaDB: from the sequence engine, seq_1_to_N;
//     MySQL: from a recursive CTE): -inserts rows in autocommit statements
//     of -chunk rows, then -updates rows (ids 1..updates) in statements of
//     -chunk rows (default: 100 x 10k inserts, 50 x 10k updates); each
//     statement is one transaction with one GTID. Check the GTID position
//     moved by exactly that many transactions, FLUSH BINARY LOGS again, so
//     the workload's files are closed and hold nothing else, and list them
//     (SHOW BINARY LOGS; MySQL 8.4+ has no SHOW MASTER STATUS). Then let
//     InnoDB write back its dirty pages and sync(2) (the counterpart of
//     pg-catchup's CHECKPOINT), so that I/O does not fall into a timed
//     phase.
//  3. Run the reference once untimed with its output counted: it must show
//     exactly the workload's row events and transactions, the GTIDs that
//     follow before, each ending in an Xid, so the timed runs below decode
//     what Cairn captures and nothing else.
//  4. Each round reads the whole backlog twice, one reader after the other
//     so each has the machine's two cores to itself (the server's binlog
//     dump thread serves both); odd rounds run the reference first, even
//     rounds Cairn first.
//     - Reference: mariadb-binlog (or mysqlbinlog) --read-from-remote-server
//     -v <the workload's files> > /dev/null (-v decodes every row event
//     into pseudo-SQL; without --to-last-log it stops at the end of the last
//     file named), timed from start to exit. (A GTID --start-position in
//     remote mode reads only to the end of the first file, so the files
//     are named instead; step 1's FLUSH makes them the workload's alone.)
//     - Cairn: capture.Run with the MySQL/MariaDB source (StartGTID before,
//     its own server_id each round) into a fresh Badger journal, timed
//     from start until the journal's durable head reaches the expected
//     entry count: every change plus a tx_begin and a tx_commit per
//     transaction. The journal is then read back, and the run fails unless
//     it holds exactly -inserts inserts and -updates updates of the orders
//     table and one tx_begin and one tx_commit per transaction: a fast wrong
//     run must not count. The same entries are then appended again into a
//     fresh journal with no source (the journal alone).
//  5. Report each round, the median rates and their ratio (the machine's
//     speed varies from minute to minute, so one round alone misleads).
//     The goal (0.5) is MariaDB's; none is set for MySQL (printed as 0.0).
//
// -cpuprofile covers Cairn's timed capture in round 1, nothing else. Nothing
// is asserted about timings.

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/cairnlog/cairn/capture"
	"github.com/cairnlog/cairn/capture/mysql"
	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/journal/badgerstore"
)

const mysqlCatchupStream = "mysql-catchup"

// mysqlBench configures mysql-catchup.
type mysqlBench struct {
	Server     string // "mariadb" or "mysql"
	Inserts    int    // rows inserted by the workload
	Updates    int    // rows then updated (ids 1..Updates), at most Inserts
	Chunk      int    // rows per workload transaction
	Rounds     int    // interleaved rounds, each reading the whole backlog twice
	Dir        string // scratch dir for the journals (default: a temp dir, removed after)
	CPUProfile string // write a CPU profile of Cairn's timed capture in round 1 here
}

func defaultMySQLBench() mysqlBench {
	return mysqlBench{Server: "mariadb", Inserts: 1_000_000, Updates: 500_000, Chunk: 10_000, Rounds: 3}
}

// myTargets are the servers of -server.
var myTargets = map[string]*myTarget{"mariadb": &mariadbTarget, "mysql": &mysqlTarget}

func (c mysqlBench) validate() error {
	switch {
	case myTargets[c.Server] == nil:
		return fmt.Errorf("-server %q: want mariadb or mysql", c.Server)
	case c.Inserts < 1:
		return fmt.Errorf("-inserts %d must be positive", c.Inserts)
	case c.Updates < 0 || c.Updates > c.Inserts:
		return fmt.Errorf("-updates %d must be between 0 and -inserts (%d): updates touch ids 1..updates", c.Updates, c.Inserts)
	case c.Chunk < 1:
		return fmt.Errorf("-chunk %d must be positive", c.Chunk)
	case c.Rounds < 1:
		return fmt.Errorf("-rounds %d must be positive", c.Rounds)
	}
	return nil
}

// myTarget is the server a mysql-catchup run measures and what differs
// between MariaDB and MySQL (mysqlcatchup_servers.go).
type myTarget struct {
	launch    func(context.Context) (myFixture, error) // starts a fresh server
	fixture   myFixture                                // the server launch started
	kind      string                                   // "MariaDB" or "MySQL"
	refName   string                                   // the reference program in the fixture's BinDir: "mariadb-binlog" or "mysqlbinlog"
	goal      float64                                  // the ratio Cairn should reach; 0 for none
	gtidQuery string                                   // selects the server's GTID position
	// workloadGTIDs returns, for txs transactions written after position
	// before, the first and last transaction's GTID as the reference
	// prints them and the position after them; it fails when before is not
	// a position this benchmark understands.
	workloadGTIDs func(before string, txs int) (first, last, after string, err error)
	// insertStmt prepares conn and returns the insert of rows lo..hi (the
	// statement's two arguments) out of 1..rows, at most chunk rows each.
	insertStmt func(ctx context.Context, conn *sql.Conn, rows, chunk int) (string, error)
	// gtidLine returns the GTID a line of the reference's output names as a
	// transaction's, if it does.
	gtidLine func(line []byte) (string, bool)
}

// myFixture is what mysql-catchup uses of *fixtures.MariaDB and
// *fixtures.MySQL (the MariaDB one also has a Password).
type myFixture interface {
	DSN() string
	Database() string
	Host() string
	Port() int
	User() string
	BinDir() string
	Stop() error
}

// launchAs makes a myTarget.launch of a fixture's Launch function.
func launchAs[F myFixture, O any](launch func(context.Context, O) (F, error), opts O) func(context.Context) (myFixture, error) {
	return func(ctx context.Context) (myFixture, error) {
		f, err := launch(ctx, opts)
		if err != nil {
			return nil, err // not a nil *fixtures.X in an interface
		}
		return f, nil
	}
}

// refCmd is the reference command on the named binlog files, logged in as
// the fixture's user.
func (t *myTarget) refCmd(ctx context.Context, files []string) *exec.Cmd {
	login := []string{"--user=" + t.fixture.User()}
	if p, ok := t.fixture.(interface{ Password() string }); ok {
		login = append(login, "--password="+p.Password())
	}
	return remoteBinlogCmd(ctx, filepath.Join(t.fixture.BinDir(), t.refName), t.fixture.Host(), t.fixture.Port(), files, login...)
}

// runMySQLCommand parses the flags of mysql-catchup and runs it.
func runMySQLCommand(ctx context.Context, log *slog.Logger, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("mysql-catchup", flag.ExitOnError)
	cfg := defaultMySQLBench()
	fs.StringVar(&cfg.Server, "server", cfg.Server, "server whose binlog is read: mariadb or mysql")
	fs.IntVar(&cfg.Inserts, "inserts", cfg.Inserts, "rows inserted into the backlog")
	fs.IntVar(&cfg.Updates, "updates", cfg.Updates, "rows then updated (ids 1..N, at most -inserts)")
	fs.IntVar(&cfg.Chunk, "chunk", cfg.Chunk, "rows per backlog transaction")
	fs.IntVar(&cfg.Rounds, "rounds", cfg.Rounds, "interleaved catch-up rounds (median reported)")
	fs.StringVar(&cfg.Dir, "dir", "", "scratch dir for the journals (default: a temp dir, removed after)")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of Cairn's timed capture in round 1")
	_ = fs.Parse(args)
	return runMySQLBench(ctx, log, cfg, out)
}

// runMySQLBench starts a server, runs the catch-up comparison and stops the
// server.
func runMySQLBench(ctx context.Context, log *slog.Logger, cfg mysqlBench, out io.Writer) (err error) {
	if err := cfg.validate(); err != nil {
		return err
	}
	dir, cleanup, err := scratchDir(cfg.Dir, "cairn-mysqlbench-")
	if err != nil {
		return err
	}
	defer cleanup()
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	tgt := *myTargets[cfg.Server]
	tgt.fixture, err = tgt.launch(sctx)
	cancel()
	if err != nil {
		return fmt.Errorf("start %s: %w", tgt.kind, err)
	}
	defer func() {
		if serr := tgt.fixture.Stop(); serr != nil {
			err = errors.Join(err, fmt.Errorf("stop %s: %w", tgt.kind, serr))
		}
	}()
	db, err := sql.Open("mysql", tgt.fixture.DSN())
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx) // one session for the whole workload
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	var version, flushAtCommit, syncBinlog string
	if err := conn.QueryRowContext(ctx, "SELECT @@version, @@innodb_flush_log_at_trx_commit, @@sync_binlog").
		Scan(&version, &flushAtCommit, &syncBinlog); err != nil {
		return fmt.Errorf("read server version: %w", err)
	}
	fmt.Fprintf(out, "machine: %d CPUs, %s/%s, %s, %s %s (innodb_flush_log_at_trx_commit=%s, sync_binlog=%s)\n",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), tgt.kind, version, flushAtCommit, syncBinlog)
	if err := runMySQLCatchup(ctx, log, cfg, &tgt, conn, dir, out); err != nil {
		return fmt.Errorf("mysql-catchup: %w", err)
	}
	return nil
}

const myOrdersDDL = `CREATE TABLE orders (
	id          bigint PRIMARY KEY,
	customer_id bigint NOT NULL,
	amount      decimal(12,2) NOT NULL,
	status      text NOT NULL,
	note        text,
	created_at  datetime(6) NOT NULL
) ENGINE=InnoDB`

// myOrdersHead and myOrdersRow make a row of orders from a number seq; each
// target adds where seq comes from (see myTarget.insertStmt), so both
// servers get the same rows.
const (
	myOrdersHead = `INSERT INTO orders (id, customer_id, amount, status, note, created_at)`
	myOrdersRow  = `seq, seq % 50000, ((seq * 7919) % 1000000) / 100.0, 'new',
       CONCAT('order ', seq, ' for customer ', seq % 50000),
       TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND`
)

const myOrdersUpdate = `UPDATE orders SET status = 'paid', amount = amount + 1.50, note = CONCAT(note, ' (paid)')
WHERE id BETWEEN ? AND ?`

// myBacklog is what the workload left in the binlog.
type myBacklog struct {
	before, after string   // the GTID position before and after the workload
	first, last   string   // the workload's first and last GTIDs, as the reference prints them
	files         []string // the binlog files holding exactly the workload
	bytes         int64    // their total size
	inserts       int
	updates       int
	changes, txs  int
	entries       uint64 // journal entries Cairn must write: changes + 2 per transaction + the table's schema entry
	table         string // database.table, as Cairn names it
}

// chunks is how many statements of chunk rows cover rows rows.
func chunks(rows, chunk int) int { return (rows + chunk - 1) / chunk }

func runMySQLCatchup(ctx context.Context, log *slog.Logger, cfg mysqlBench, tgt *myTarget, conn *sql.Conn, dir string, out io.Writer) error {
	if _, err := conn.ExecContext(ctx, myOrdersDDL); err != nil {
		return fmt.Errorf("create table: %w", err)
	}
	// FLUSH BINARY LOGS is never written to the binlog itself: the new
	// file holds nothing but what follows.
	if _, err := conn.ExecContext(ctx, "FLUSH BINARY LOGS"); err != nil {
		return fmt.Errorf("flush binary logs: %w", err)
	}
	bl := myBacklog{table: tgt.fixture.Database() + ".orders", inserts: cfg.Inserts, updates: cfg.Updates, changes: cfg.Inserts + cfg.Updates}
	bl.txs = chunks(cfg.Inserts, cfg.Chunk) + chunks(cfg.Updates, cfg.Chunk)
	bl.entries = uint64(bl.changes + 2*bl.txs + 1)
	var err error
	if bl.before, err = queryString(ctx, conn, tgt.gtidQuery); err != nil {
		return err
	}
	var wantAfter string
	if bl.first, bl.last, wantAfter, err = tgt.workloadGTIDs(bl.before, bl.txs); err != nil {
		return err
	}
	filesBefore, err := binaryLogs(ctx, conn)
	if err != nil {
		return err
	}
	insert, err := tgt.insertStmt(ctx, conn, cfg.Inserts, cfg.Chunk)
	if err != nil {
		return err
	}
	began := time.Now()
	insertTx, err := writeMyChunks(ctx, conn, insert, cfg.Inserts, cfg.Chunk)
	if err != nil {
		return fmt.Errorf("insert workload: %w", err)
	}
	updateTx, err := writeMyChunks(ctx, conn, myOrdersUpdate, cfg.Updates, cfg.Chunk)
	if err != nil {
		return fmt.Errorf("update workload: %w", err)
	}
	wrote := time.Since(began)
	if bl.after, err = queryString(ctx, conn, tgt.gtidQuery); err != nil {
		return err
	}
	if insertTx+updateTx != bl.txs || bl.after != wantAfter {
		return fmt.Errorf("the GTID position went from %s to %s over %d transactions (want %s after %d): something else wrote to the binlog",
			bl.before, bl.after, insertTx+updateTx, wantAfter, bl.txs)
	}
	if _, err := conn.ExecContext(ctx, "FLUSH BINARY LOGS"); err != nil {
		return fmt.Errorf("flush binary logs: %w", err)
	}
	filesAfter, err := binaryLogs(ctx, conn)
	if err != nil {
		return err
	}
	// The workload's files: from the one that was current before it up to,
	// not including, the one the second flush opened.
	first := filesBefore[len(filesBefore)-1].name
	for _, f := range filesAfter[:len(filesAfter)-1] {
		if f.name >= first {
			bl.files = append(bl.files, f.name)
			bl.bytes += f.size
		}
	}
	if len(bl.files) == 0 {
		return fmt.Errorf("no binlog files between %v and %v", filesBefore, filesAfter)
	}
	settled, dirty, err := settleInnoDB(ctx, conn)
	if err != nil {
		return err
	}
	syscall.Sync()
	fmt.Fprintf(out, "backlog: %d inserts (%d transactions of up to %d rows) + %d updates (%d transactions) into orders in %.1f s; GTID %s..%s in %s (%.0f MB of binlog)\n",
		cfg.Inserts, insertTx, cfg.Chunk, cfg.Updates, updateTx, wrote.Seconds(), bl.first, bl.last, strings.Join(bl.files, " "), float64(bl.bytes)/(1<<20))
	fmt.Fprintf(out, "settle: InnoDB dirty pages written back in %.1f s (%d left), then sync\n", settled.Seconds(), dirty)

	counts, err := checkBinlogRef(ctx, tgt, bl)
	if err != nil {
		return fmt.Errorf("%s check run: %w", tgt.refName, err)
	}
	fmt.Fprintf(out, "%s -v check run (untimed, output counted): %d inserts, %d updates, %d transactions %s..%s, %.0f MB of text\n",
		tgt.refName, counts.inserts, counts.updates, counts.gtids, counts.first, counts.last, float64(counts.bytes)/(1<<20))
	fmt.Fprintf(out, "catch-up of %d changes (%d journal entries) after GTID %s, %d interleaved rounds (each reads the same binlog files):\n",
		bl.changes, bl.entries, bl.before, cfg.Rounds)

	report := &catchupReport{out: out, refName: tgt.refName}
	for r := range cfg.Rounds {
		var ref, cairn drainResult
		runRef := func() error {
			ref, err = drainBinlogRef(ctx, tgt, bl)
			if err != nil {
				return fmt.Errorf("%s: %w", tgt.refName, err)
			}
			return nil
		}
		runCairn := func() error {
			profile := profileIf(r == 0, cfg.CPUProfile) // one profile: the first round's capture
			serverID := uint32(1000 + r)                 // the server is 1; a fresh id each round
			cairn, err = drainMySQLCairn(ctx, tgt.fixture.DSN(), bl, serverID, filepath.Join(dir, fmt.Sprintf("mysql-catchup-%d", r+1)), profile)
			if err != nil {
				return fmt.Errorf("cairn (round %d): %w", r+1, err)
			}
			return nil
		}
		if err := interleave(r, runRef, runCairn); err != nil {
			return err
		}
		report.round(r, ref, cairn)
		log.Info("catch-up round done", "round", r+1)
	}
	report.summary(tgt.refName+" -v > /dev/null", bl.changes, tgt.goal)
	report.ceiling(bl.changes)
	return nil
}

// writeMyChunks runs stmt with (lo, hi) over 1..rows in chunks of chunk
// rows, each an autocommit statement (its own transaction), and returns
// how many it ran.
func writeMyChunks(ctx context.Context, conn *sql.Conn, stmt string, rows, chunk int) (int, error) {
	return inChunks(rows, chunk, func(lo, hi int) (int64, error) {
		res, err := conn.ExecContext(ctx, stmt, lo, hi)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	})
}

// queryString returns the one string query q returns.
func queryString(ctx context.Context, conn *sql.Conn, q string) (string, error) {
	var s string
	if err := conn.QueryRowContext(ctx, q).Scan(&s); err != nil {
		return "", fmt.Errorf("%s: %w", q, err)
	}
	return s, nil
}

type binlogFile struct {
	name string
	size int64
}

// binaryLogs lists the server's binlog files, oldest first. (MySQL adds a
// third column, Encrypted.)
func binaryLogs(ctx context.Context, conn *sql.Conn) ([]binlogFile, error) {
	rows, err := conn.QueryContext(ctx, "SHOW BINARY LOGS")
	if err != nil {
		return nil, fmt.Errorf("show binary logs: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("show binary logs: %w", err)
	}
	var files []binlogFile
	for rows.Next() {
		var f binlogFile
		dest := []any{&f.name, &f.size}
		for range len(cols) - len(dest) {
			dest = append(dest, new(any))
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("show binary logs: %w", err)
		}
		files = append(files, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("show binary logs: %w", err)
	}
	if len(files) == 0 {
		return nil, errors.New("show binary logs: no binlog files (is log_bin on?)")
	}
	return files, nil
}

// settleInnoDB has InnoDB write back every dirty page
// (innodb_max_dirty_pages_pct=0 until none are left, at most a minute),
// restores the setting and returns how long it took and how many pages
// were still dirty.
func settleInnoDB(ctx context.Context, conn *sql.Conn) (time.Duration, int64, error) {
	var pct string
	if err := conn.QueryRowContext(ctx, "SELECT @@innodb_max_dirty_pages_pct").Scan(&pct); err != nil {
		return 0, 0, fmt.Errorf("read innodb_max_dirty_pages_pct: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "SET GLOBAL innodb_max_dirty_pages_pct = 0"); err != nil {
		return 0, 0, fmt.Errorf("set innodb_max_dirty_pages_pct: %w", err)
	}
	start := time.Now()
	var dirty int64
	for {
		var name string
		if err := conn.QueryRowContext(ctx, "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'").Scan(&name, &dirty); err != nil {
			return 0, 0, fmt.Errorf("read Innodb_buffer_pool_pages_dirty: %w", err)
		}
		if dirty == 0 || time.Since(start) > time.Minute {
			break
		}
		select {
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	elapsed := time.Since(start)
	if _, err := conn.ExecContext(ctx, "SET GLOBAL innodb_max_dirty_pages_pct = "+pct); err != nil {
		return 0, 0, fmt.Errorf("restore innodb_max_dirty_pages_pct: %w", err)
	}
	return elapsed, dirty, nil
}

// drainMySQLCairn captures the backlog from the server at dsn (MariaDB or
// MySQL: the source finds out which) into a fresh journal in dir until
// the journal's durable head holds every expected entry, then checks what
// the journal holds and removes it. A CPU profile of the capture goes to
// profile unless it is "".
func drainMySQLCairn(ctx context.Context, dsn string, bl myBacklog, serverID uint32, dir, profile string) (drainResult, error) {
	defer os.RemoveAll(dir)
	store, err := badgerstore.Open(badgerstore.DefaultConfig(dir))
	if err != nil {
		return drainResult{}, err
	}
	defer store.Close()
	mcfg := mysql.DefaultConfig(mysqlCatchupStream, dsn)
	mcfg.ServerID, mcfg.StartGTID = serverID, bl.before
	src, err := mysql.New(mcfg)
	if err != nil {
		return drainResult{}, err
	}

	stopProfile, err := startProfile(profile)
	if err != nil {
		return drainResult{}, err
	}
	defer stopProfile()
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	// Generous: a millisecond per entry on top of two minutes (about half
	// an hour at the default size, against well under a minute expected).
	limit := 2*time.Minute + time.Duration(bl.entries)*time.Millisecond
	start := time.Now()
	go func() { done <- capture.Run(rctx, capture.DefaultConfig(mysqlCatchupStream), store, src) }()
	var elapsed time.Duration
	for {
		var seq uint64
		head, err := store.Head(ctx, mysqlCatchupStream)
		switch {
		case err == nil:
			seq = head.Seq
		case !errors.Is(err, journal.ErrUnknownStream): // unknown: nothing appended yet
			cancel()
			<-done
			return drainResult{}, err
		}
		if seq >= bl.entries {
			elapsed = time.Since(start)
			break
		}
		if time.Since(start) > limit {
			cancel()
			<-done
			return drainResult{}, fmt.Errorf("the journal holds %d of %d entries after %v", seq, bl.entries, limit)
		}
		select {
		case err := <-done:
			return drainResult{}, fmt.Errorf("capture stopped at entry %d of %d: %v", seq, bl.entries, err)
		case <-ctx.Done():
			<-done
			return drainResult{}, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	err = <-done
	stopProfile() // the check below is not part of the capture
	if err != nil {
		return drainResult{}, fmt.Errorf("capture ended with %w", err)
	}
	if err := checkMySQLJournal(ctx, store, bl); err != nil {
		return drainResult{}, err
	}
	alone, err := journalAlone(ctx, store, dir+"-alone")
	if err != nil {
		return drainResult{}, fmt.Errorf("journal alone: %w", err)
	}
	return drainResult{changes: bl.changes, elapsed: elapsed, journalAlone: alone}, nil
}

// journalAlone appends the entries capture wrote to store again, into a
// fresh journal in dir, in batches of the capture loop's size, with no
// source: what the durable journal alone takes for the same entries on
// this machine, in the same run. It returns the time the appends took.
func journalAlone(ctx context.Context, store journal.Store, dir string) (time.Duration, error) {
	defer os.RemoveAll(dir)
	var entries []journal.Entry
	for from := uint64(1); ; {
		recs, err := store.Read(ctx, mysqlCatchupStream, from, 10_000)
		if err != nil {
			return 0, err
		}
		if len(recs) == 0 {
			break
		}
		for i := range recs {
			e := recs[i].Entry
			e.Stream, e.Seq, e.PrevHash, e.RecordedAt = "", 0, journal.Hash{}, time.Time{}
			entries = append(entries, e)
		}
		from += uint64(len(recs))
	}
	fresh, err := badgerstore.Open(badgerstore.DefaultConfig(dir))
	if err != nil {
		return 0, err
	}
	defer fresh.Close()
	batch := mysql.DefaultConfig(mysqlCatchupStream, "x@tcp(h:1)/d").MaxBatch
	start := time.Now()
	for i := 0; i < len(entries); i += batch {
		if _, err := fresh.Append(ctx, mysqlCatchupStream, entries[i:min(i+batch, len(entries))]); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// checkMySQLJournal counts the journal's entries by kind and op.
func checkMySQLJournal(ctx context.Context, store journal.Store, bl myBacklog) error {
	var inserts, updates, other, begins, commits, schemas int
	for from := uint64(1); ; {
		recs, err := store.Read(ctx, mysqlCatchupStream, from, 10_000)
		if err != nil {
			return fmt.Errorf("read the journal at %d: %w", from, err)
		}
		if len(recs) == 0 {
			break
		}
		for i := range recs {
			switch r := &recs[i]; {
			case r.Kind == journal.KindChange && r.Op == journal.OpInsert && r.Table == bl.table:
				inserts++
			case r.Kind == journal.KindChange && r.Op == journal.OpUpdate && r.Table == bl.table:
				updates++
			case r.Kind == journal.KindTxBegin:
				begins++
			case r.Kind == journal.KindTxCommit:
				commits++
			case r.Kind == journal.KindSchema && r.Table == bl.table:
				schemas++
			default:
				other++
			}
		}
		from += uint64(len(recs))
	}
	if inserts != bl.inserts || updates != bl.updates || other != 0 || begins != bl.txs || commits != bl.txs || schemas != 1 {
		return fmt.Errorf("the journal holds %d inserts, %d updates, %d schema entries, %d other entries, %d tx_begin and %d tx_commit; want %d inserts, %d updates, 1 schema, 0 other, %d transactions",
			inserts, updates, schemas, other, begins, commits, bl.inserts, bl.updates, bl.txs)
	}
	return nil
}
