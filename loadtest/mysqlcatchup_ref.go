package main

// The reference side of mysql-catchup, the same for MariaDB and MySQL: the
// server's own binlog client (mariadb-binlog or mysqlbinlog, from the
// target) decoding the workload's files with -v, timed with its output to
// /dev/null, and once untimed with its output counted.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// remoteBinlogCmd runs a binlog client (mariadb-binlog or mysqlbinlog: they
// take the same options here) on the named files of the server at
// host:port, read like a replica reads them, with -v: every row event
// decoded into pseudo-SQL. login is the --user (and --password) options.
func remoteBinlogCmd(ctx context.Context, program, host string, port int, files []string, login ...string) *exec.Cmd {
	args := append([]string{"--read-from-remote-server", "--host=" + host, "--port=" + strconv.Itoa(port), "-v"}, login...)
	cmd := exec.CommandContext(ctx, program, append(args, files...)...)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// drainBinlogRef runs the reference with its output to /dev/null (nil
// stdout: exec opens the null device) and times it from start to exit.
func drainBinlogRef(ctx context.Context, tgt *myTarget, bl myBacklog) (drainResult, error) {
	cmd := tgt.refCmd(ctx, bl.files)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return drainResult{}, ctx.Err()
		}
		return drainResult{}, fmt.Errorf("%s: %w: %s", cmd, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return drainResult{changes: bl.changes, elapsed: time.Since(start)}, nil
}

// binlogCounts is what one reference run printed.
type binlogCounts struct {
	inserts, updates, other int // row images announced by ### INSERT/UPDATE/DELETE lines
	gtids, xids             int
	first, last             string // first and last transaction GTIDs
	bytes                   int64
}

// checkBinlogRef runs the reference once with its output counted and fails
// unless it decoded exactly the workload: every row, on the orders table,
// in transactions bl.first .. bl.last, each ending in an Xid. The target
// says which lines name a transaction's GTID.
func checkBinlogRef(ctx context.Context, tgt *myTarget, bl myBacklog) (binlogCounts, error) {
	var c binlogCounts
	cmd := tgt.refCmd(ctx, bl.files)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return c, err
	}
	if err := cmd.Start(); err != nil {
		return c, err
	}
	table := "`" + strings.ReplaceAll(bl.table, ".", "`.`") + "`"
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		c.bytes += int64(len(line)) + 1
		if gtid, ok := tgt.gtidLine(line); ok {
			if c.gtids == 0 {
				c.first = gtid
			}
			c.last = gtid
			c.gtids++
			continue
		}
		switch {
		case bytes.HasPrefix(line, []byte("### INSERT INTO ")):
			if string(line[len("### INSERT INTO "):]) == table {
				c.inserts++
			} else {
				c.other++
			}
		case bytes.HasPrefix(line, []byte("### UPDATE ")):
			if string(line[len("### UPDATE "):]) == table {
				c.updates++
			} else {
				c.other++
			}
		case bytes.HasPrefix(line, []byte("### DELETE FROM ")):
			c.other++
		case bytes.HasPrefix(line, []byte("#")) && bytes.Contains(line, []byte("\tXid = ")):
			// #261126  5:03:02 server id 1  end_log_pos 1141 CRC32 0x...\tXid = 14
			c.xids++
		}
	}
	scanErr := sc.Err()
	if scanErr != nil {
		_, _ = io.Copy(io.Discard, stdout)
	}
	if err := cmd.Wait(); err != nil {
		return c, fmt.Errorf("%s: %w: %s", cmd, err, bytes.TrimSpace(stderr.Bytes()))
	}
	if scanErr != nil {
		return c, fmt.Errorf("read the output: %w", scanErr)
	}
	if c.inserts != bl.inserts || c.updates != bl.updates || c.other != 0 ||
		c.gtids != bl.txs || c.xids != bl.txs || c.first != bl.first || c.last != bl.last {
		return c, fmt.Errorf("it printed %d inserts and %d updates of %s, %d other row images, %d GTIDs (%s..%s) and %d Xids; want %d inserts and %d updates in %d transactions %s..%s",
			c.inserts, c.updates, bl.table, c.other, c.gtids, c.first, c.last, c.xids, bl.inserts, bl.updates, bl.txs, bl.first, bl.last)
	}
	return c, nil
}
