package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/cairnlog/cairn/capture"
)

// checkRetention fails fast, before any binlog is requested, when the
// server no longer has transactions the journal needs after the GTID state
// after, naming the missing GTIDs. lastCommit (zero for a new stream) is
// the commit time of the journal's last entry: when the journal is more
// than half the binlog retention behind, it logs a warning, because the
// binlogs it still needs are the next to be purged.
func (s *Source) checkRetention(ctx context.Context, db *sql.DB, after gtidState, lastCommit time.Time) error {
	missing, err := s.purgedAfter(ctx, db, after)
	if err != nil {
		return fmt.Errorf("check which binlogs the server still has: %w", err)
	}
	if missing != "" {
		return capture.Permanent(fmt.Errorf("%w: the journal continues after GTID %q, but the server has purged the binlogs holding %s. "+
			"Those changes are lost to Cairn: keep binlogs longer (binlog_expire_logs_seconds) than cairnd can be down or behind, "+
			"and capture into a new stream (with snapshot: initial to copy the tables again)", ErrBinlogPurged, after.String(), missing))
	}
	var expire sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT @@binlog_expire_logs_seconds`).Scan(&expire); err != nil || !expire.Valid || expire.Int64 <= 0 || lastCommit.IsZero() {
		return nil // unknown or no automatic expiry
	}
	retention := time.Duration(expire.Int64) * time.Second
	if behind := time.Since(lastCommit); behind > retention/2 {
		s.log.Warn("the journal is far behind the binlog's retention: binlogs it still needs may be purged before capture reads them",
			"journal_last_commit", lastCommit.UTC().Format(time.RFC3339), "behind", behind.Round(time.Second).String(),
			"binlog_expire_logs_seconds", expire.Int64)
	}
	return nil
}

// purgedAfter describes the transactions after the state after that the
// server's binlogs no longer hold ("" when it has them all).
func (s *Source) purgedAfter(ctx context.Context, db *sql.DB, after gtidState) (string, error) {
	if s.flavor == flavorMySQL {
		var missing string
		err := db.QueryRowContext(ctx, `SELECT GTID_SUBTRACT(@@global.gtid_purged, ?)`, after.String()).Scan(&missing)
		if missing = strings.ReplaceAll(missing, "\n", ""); missing != "" {
			missing = "GTIDs " + missing
		}
		return missing, err
	}
	// MariaDB: the GTID state at the start of the oldest binlog it has.
	rows, err := db.QueryContext(ctx, `SHOW BINARY LOGS`)
	if err != nil {
		return "", err
	}
	var oldest string
	if rows.Next() {
		cols, _ := rows.Columns()
		dest := make([]any, len(cols))
		dest[0] = &oldest
		for i := 1; i < len(dest); i++ {
			dest[i] = new(sql.RawBytes)
		}
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return "", err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || oldest == "" {
		return "", err
	}
	var pos sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT BINLOG_GTID_POS(?, 4)`, oldest).Scan(&pos); err != nil {
		return "", err
	}
	first, err := parseGTIDState(flavorMariaDB, pos.String)
	if err != nil {
		return "", fmt.Errorf("GTID state at the start of %s: %w", oldest, err)
	}
	var gaps []string
	for _, d := range slices.Sorted(maps.Keys(first.domains)) {
		had := first.domains[d]
		have := after.domains[d].SequenceNumber // 0 when the journal never saw the domain
		if had.SequenceNumber > have {
			gaps = append(gaps, fmt.Sprintf("%d-%d-%d to %d-%d-%d", d, had.ServerID, have+1, d, had.ServerID, had.SequenceNumber))
		}
	}
	if len(gaps) == 0 {
		return "", nil
	}
	return "GTIDs " + strings.Join(gaps, ", ") + " (the oldest binlog, " + oldest + ", starts after " + first.String() + ")", nil
}
