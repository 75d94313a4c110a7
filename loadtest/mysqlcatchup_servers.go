package main

// The servers mysql-catchup measures, -server mariadb (the default) and
// -server mysql: what differs between them. The rest is the same for both
// (mysqlcatchup.go, mysqlcatchup_ref.go).

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/cairnlog/cairn/fixtures"
)

// MariaDB (the default, -server mariadb), a server from
// fixtures.LaunchMariaDB:
//   - GTIDs are domain-server-seq; the position is @@gtid_binlog_pos (one
//     domain here), and the workload's transactions are seq+1 .. seq+txs.
//   - The rows come from the sequence engine (seq_1_to_N, made on demand).
//   - The reference is mariadb-binlog --read-from-remote-server -v <files>.

var mariadbTarget = myTarget{
	kind: "MariaDB", refName: "mariadb-binlog", goal: 0.5, gtidQuery: "SELECT @@gtid_binlog_pos",
	launch:        launchAs(fixtures.LaunchMariaDB, fixtures.MariaDBOptions{}),
	workloadGTIDs: mariadbWorkloadGTIDs, insertStmt: mariadbInsertStmt, gtidLine: mariadbGTIDLine,
}

// mariadbWorkloadGTIDs: before is one GTID domain-server-seq; the
// workload's transactions are seq+1 .. seq+txs, and @@gtid_binlog_pos ends
// at the last.
func mariadbWorkloadGTIDs(before string, txs int) (first, last, after string, err error) {
	if before == "" || strings.Contains(before, ",") {
		return "", "", "", fmt.Errorf("@@gtid_binlog_pos before the workload is %q; want one GTID", before)
	}
	if first, err = nextGTID(before, 1); err != nil {
		return "", "", "", err
	}
	if last, err = nextGTID(before, txs); err != nil {
		return "", "", "", err
	}
	return first, last, last, nil
}

// mariadbInsertStmt reads the rows from the sequence engine.
func mariadbInsertStmt(_ context.Context, _ *sql.Conn, rows, _ int) (string, error) {
	return myOrdersHead + "\nSELECT " + myOrdersRow + fmt.Sprintf("\nFROM seq_1_to_%d WHERE seq BETWEEN ? AND ?", rows), nil
}

// mariadbGTIDLine reads a transaction's GTID from its GTID event's header
// line:
//
//	#261126  5:03:02 server id 1  end_log_pos 421 CRC32 0x...\tGTID 0-1-2 trans
func mariadbGTIDLine(line []byte) (string, bool) {
	if len(line) == 0 || line[0] != '#' {
		return "", false
	}
	_, rest, ok := bytes.Cut(line, []byte("\tGTID "))
	if !ok {
		return "", false
	}
	gtid, _, _ := bytes.Cut(rest, []byte(" "))
	return string(gtid), true
}

// nextGTID returns domain-server-(seq+n) for a domain-server-seq GTID.
func nextGTID(gtid string, n int) (string, error) {
	i := strings.LastIndexByte(gtid, '-')
	if i < 0 {
		return "", fmt.Errorf("GTID %q is not domain-server-seq", gtid)
	}
	seq, err := strconv.ParseUint(gtid[i+1:], 10, 64)
	if err != nil {
		return "", fmt.Errorf("GTID %q: %w", gtid, err)
	}
	return gtid[:i+1] + strconv.FormatUint(seq+uint64(n), 10), nil
}

// MySQL (-server mysql), a server from fixtures.LaunchMySQL (Debian sid's
// MySQL 9, `make mysql-deps`; GTID mode on, the same binlog and InnoDB
// settings as the MariaDB fixture), root with no password:
//   - GTIDs are uuid:N; the position is @@gtid_executed (uuid:1-N), and the
//     workload's transactions are uuid:N+1 .. uuid:N+txs.
//   - No sequence engine: the rows come from a recursive CTE, one chunk
//     deep (cte_max_recursion_depth is raised for the session).
//   - The reference is mysqlbinlog --read-from-remote-server -v <files>,
//     which, like mariadb-binlog, stops at the end of the last file named
//     without --to-last-log. With an empty password it needs neither TLS
//     nor the server's RSA key (caching_sha2_password).
//   - mysqlbinlog -v names each transaction's GTID in a
//     SET @@SESSION.GTID_NEXT= 'uuid:N' line.
//
// No goal is set for MySQL: the run reports the ratio only.

var mysqlTarget = myTarget{
	kind: "MySQL", refName: "mysqlbinlog", gtidQuery: "SELECT @@gtid_executed",
	launch:        launchAs(fixtures.LaunchMySQL, fixtures.MySQLOptions{}),
	workloadGTIDs: mysqlWorkloadGTIDs, insertStmt: mysqlInsertStmt, gtidLine: mysqlGTIDLine,
}

// mysqlWorkloadGTIDs: before must be one server's one interval, uuid:lo-hi
// (or uuid:hi); the workload's transactions are uuid:hi+1 .. uuid:hi+txs
// and @@gtid_executed ends as uuid:lo-(hi+txs).
func mysqlWorkloadGTIDs(before string, txs int) (first, last, after string, err error) {
	bad := fmt.Errorf("@@gtid_executed before the workload is %q; want one uuid:lo-hi", before)
	uuid, interval, ok := strings.Cut(before, ":")
	if !ok || strings.ContainsAny(interval, ":,\n") {
		return "", "", "", bad
	}
	loText, hiText, isRange := strings.Cut(interval, "-")
	if !isRange {
		hiText = loText
	}
	lo, err1 := strconv.ParseUint(loText, 10, 64)
	hi, err2 := strconv.ParseUint(hiText, 10, 64)
	if err1 != nil || err2 != nil || lo > hi {
		return "", "", "", bad
	}
	end := hi + uint64(txs)
	return fmt.Sprintf("%s:%d", uuid, hi+1), fmt.Sprintf("%s:%d", uuid, end), fmt.Sprintf("%s:%d-%d", uuid, lo, end), nil
}

// mysqlInsertStmt counts lo .. hi with a recursive CTE; the session may
// recurse a chunk deep.
func mysqlInsertStmt(ctx context.Context, conn *sql.Conn, _, chunk int) (string, error) {
	if _, err := conn.ExecContext(ctx, "SET SESSION cte_max_recursion_depth = "+strconv.Itoa(chunk+1)); err != nil {
		return "", fmt.Errorf("set cte_max_recursion_depth: %w", err)
	}
	return myOrdersHead + `
WITH RECURSIVE s (seq) AS (SELECT CAST(? AS UNSIGNED) UNION ALL SELECT seq + 1 FROM s WHERE seq < ?)
SELECT ` + myOrdersRow + ` FROM s`, nil
}

var gtidNextPrefix = []byte("SET @@SESSION.GTID_NEXT= '")

// mysqlGTIDLine reads a transaction's GTID from the line that sets it:
//
//	SET @@SESSION.GTID_NEXT= 'f0945f5c-e97b-11f1-ba57-02fc00000001:3'/*!*/;
//
// The 'AUTOMATIC' that mysqlbinlog adds at the end of a file is no GTID.
func mysqlGTIDLine(line []byte) (string, bool) {
	rest, ok := bytes.CutPrefix(line, gtidNextPrefix)
	if !ok {
		return "", false
	}
	gtid, _, _ := bytes.Cut(rest, []byte("'"))
	if !bytes.Contains(gtid, []byte(":")) {
		return "", false
	}
	return string(gtid), true
}
