package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cairnlog/cairn/capture"
	"github.com/cairnlog/cairn/journal"
)

// The initial snapshot copies every captured table as snapshot_read
// entries before the binlog stream starts. It reads inside START
// TRANSACTION WITH CONSISTENT SNAPSHOT and asks the server which binlog
// position that snapshot matches (binlog_snapshot_file/position, turned
// into a GTID with BINLOG_GTID_POS), so the stream continues exactly after
// the copied state. Snapshot positions are that GTID's domain and sequence
// number with a row counter as the index: they sort after everything before
// the snapshot and before the first transaction after it.
//
// Tables are copied in name order, each in primary-key chunks. A snapshot
// interrupted by a crash resumes after the last durable row's key, in a new
// snapshot: rows changed in between then show their newer value in the copy
// and also arrive from the stream (docs/decisions.md).

type snapshotPlan struct {
	conn    *sql.Conn
	gtid    string // the binlog point the snapshot matches (canonical gtidState text)
	ordinal uint64 // its gtidState ordinal
	counter uint64
	framed  bool   // the snapshot's first entry, which carries gtid as resume text, is emitted
	table   string // resume within this table
	after   []byte // canonical key of the last durable row of table
}

// position is the position of the snapshot entry at the current row
// counter: the first entry of the snapshot carries the GTID state it
// matches as resume text, the others none (the resume point is the same
// for all of them, and a resumed capture reads it from the first).
func (p *snapshotPlan) position() []byte {
	if p.framed {
		return Position(p.ordinal, p.counter)
	}
	return FramePosition(p.ordinal, p.counter, p.gtid)
}

func (p *snapshotPlan) close() {
	if p != nil && p.conn != nil {
		_, _ = p.conn.ExecContext(context.Background(), "ROLLBACK")
		p.conn.Close()
		p.conn = nil
	}
}

func (s *Source) planSnapshot(ctx context.Context, resume capture.Resume) (*snapshotPlan, error) {
	if s.cfg.Snapshot != "initial" {
		return nil, nil
	}
	p := &snapshotPlan{}
	switch {
	case len(resume.Position) == 0:
	case resume.Last != nil && (resume.Last.Kind == journal.KindSnapshotRead ||
		resume.Last.Kind == journal.KindSchema && resume.Last.TxID == ""):
		// The last entry is a copied row, or the schema entry before a
		// table's first row (binlog schema entries carry their GTID as
		// TxID; snapshot ones none): the copy resumes after that row's key,
		// or from the start of that table.
		var err error
		if p.counter, err = positionIndex(resume.Position); err != nil {
			return nil, capture.Permanent(fmt.Errorf("the journal's last position: %w", err))
		}
		p.table, p.framed = resume.Last.Table, true
		if resume.Last.Kind == journal.KindSnapshotRead {
			p.after = resume.Last.Key
		}
		p.gtid = s.resumeText
		s.log.Info("resuming the initial snapshot", "after_row", p.counter, "table", p.table)
	default:
		return nil, nil // the snapshot finished and streaming began
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("open snapshot connection: %w", err)
	}
	p.conn = conn
	fresh := p.gtid == "" && len(resume.Position) == 0
	if fresh && s.flavor == flavorMySQL {
		if err := s.openMySQLSnapshot(ctx, p); err != nil {
			return nil, err
		}
		return p, nil
	}
	for _, q := range []string{"SET time_zone = '+00:00'", "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			p.close()
			return nil, fmt.Errorf("snapshot: %s: %w", q, err)
		}
	}
	if fresh {
		var file, pos string
		rows, err := conn.QueryContext(ctx, "SHOW STATUS WHERE Variable_name IN ('binlog_snapshot_file', 'binlog_snapshot_position')")
		if err != nil {
			p.close()
			return nil, fmt.Errorf("snapshot: read its binlog position: %w", err)
		}
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				rows.Close()
				p.close()
				return nil, err
			}
			if k == "binlog_snapshot_file" {
				file = v
			} else {
				pos = v
			}
		}
		rows.Close()
		var g sql.NullString
		if err := conn.QueryRowContext(ctx, "SELECT BINLOG_GTID_POS(?, ?)", file, pos).Scan(&g); err != nil {
			p.close()
			return nil, fmt.Errorf("snapshot: GTID of binlog position %s:%s: %w", file, pos, err)
		}
		p.gtid = g.String
		s.log.Info("initial snapshot", "binlog", file+":"+pos, "gtid", p.gtid)
	}
	st, err := parseGTIDState(s.flavor, p.gtid)
	if err != nil {
		p.close()
		return nil, capture.Permanent(fmt.Errorf("snapshot GTID %q: %w", p.gtid, err))
	}
	p.gtid, p.ordinal = st.String(), st.ordinal
	return p, nil
}

// openMySQLSnapshot opens the snapshot transaction on a MySQL server and
// reads the GTID set it matches. MySQL cannot say which GTID set a
// consistent snapshot matches, so commits are held off for the moment it
// takes to open one and read @@gtid_executed (FLUSH TABLES WITH READ LOCK,
// which needs RELOAD), as mysqldump --single-transaction --set-gtid-purged
// does. The lock is released on every path; on an error the connection is
// discarded rather than returned to the pool, so no lock can outlive it.
func (s *Source) openMySQLSnapshot(ctx context.Context, p *snapshotPlan) (err error) {
	conn := p.conn
	defer func() {
		if err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn }) // drop the session, and any lock with it
			p.close()
		}
	}()
	for _, q := range []string{"SET time_zone = '+00:00'", "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
		"SET SESSION lock_wait_timeout = 10"} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("snapshot: %s: %w", q, err)
		}
	}
	if _, err := conn.ExecContext(ctx, "FLUSH TABLES WITH READ LOCK"); err != nil {
		return fmt.Errorf("snapshot: FLUSH TABLES WITH READ LOCK (needs the RELOAD privilege; waits at most lock_wait_timeout for running statements): %w", err)
	}
	_, err = conn.ExecContext(ctx, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
	if err == nil {
		err = conn.QueryRowContext(ctx, "SELECT @@global.gtid_executed").Scan(&p.gtid)
	}
	if _, uerr := conn.ExecContext(ctx, "UNLOCK TABLES"); err == nil && uerr != nil {
		err = fmt.Errorf("UNLOCK TABLES: %w", uerr)
	}
	if err != nil {
		return fmt.Errorf("snapshot: open it and read the GTID set it matches: %w", err)
	}
	st, err := parseGTIDState(flavorMySQL, p.gtid)
	if err != nil {
		return capture.Permanent(fmt.Errorf("snapshot GTID set %q: %w", p.gtid, err))
	}
	p.gtid, p.ordinal = st.String(), st.ordinal
	s.log.Info("initial snapshot", "gtid", p.gtid)
	return nil
}

func (s *Source) snapshotTables(ctx context.Context, p *snapshotPlan) ([]string, error) {
	if len(s.cfg.Tables) > 0 {
		t := append([]string(nil), s.cfg.Tables...)
		sortStrings(t)
		return t, nil
	}
	rows, err := p.conn.QueryContext(ctx, `SELECT CONCAT(table_schema, '.', table_name) FROM information_schema.tables
		WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY 1`, s.dsn.DBName)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func sortStrings(a []string) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

func (s *Source) runSnapshot(ctx context.Context, p *snapshotPlan) error {
	tables, err := s.snapshotTables(ctx, p)
	if err != nil {
		return err
	}
	for _, t := range tables {
		if p.table != "" && t < p.table {
			continue
		}
		var after []byte
		if t == p.table {
			after = p.after
		}
		if err := s.snapshotTable(ctx, p, t, after); err != nil {
			return fmt.Errorf("snapshot %s: %w", t, err)
		}
	}
	s.log.Info("initial snapshot done", "rows", p.counter)
	return nil
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

func (s *Source) snapshotTable(ctx context.Context, p *snapshotPlan, table string, after []byte) error {
	schema, name, _ := strings.Cut(table, ".")
	cols, pk, err := TableColumns(ctx, p.conn, schema, name)
	if err != nil {
		return err
	}
	sch := s.tableSchema(schema, name, cols, pk)
	from := " FROM " + quoteIdent(schema) + "." + quoteIdent(name)
	list := SelectList(cols)
	if len(pk) == 0 {
		_, _, err := s.snapshotQuery(ctx, p, table, sch, cols, pk, "SELECT "+list+from)
		return err
	}
	var names, marks []string
	for _, i := range pk {
		names = append(names, quoteIdent(cols[i].Name))
		marks = append(marks, "?")
	}
	order := strings.Join(names, ", ")
	var last []any
	if after != nil {
		if last, err = keyArgs(cols, pk, after); err != nil {
			return fmt.Errorf("resume key %s: %w", after, err)
		}
	}
	for {
		q := "SELECT " + list + ", " + order + from
		if last != nil {
			q += " WHERE (" + order + ") > (" + strings.Join(marks, ", ") + ")"
		}
		q += fmt.Sprintf(" ORDER BY %s LIMIT %d", order, s.cfg.SnapshotChunk)
		n, lastKey, err := s.snapshotQuery(ctx, p, table, sch, cols, pk, q, last...)
		if err != nil {
			return err
		}
		if n < s.cfg.SnapshotChunk {
			return nil
		}
		last = lastKey
	}
}

// keyArgs turns a canonical key image back into query arguments.
func keyArgs(cols []ColumnInfo, pk []int, key []byte) ([]any, error) {
	var m map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(string(key)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	out := make([]any, len(pk))
	for i, j := range pk {
		raw, ok := m[cols[j].Name]
		if !ok {
			return nil, fmt.Errorf("key has no column %s", cols[j].Name)
		}
		var v any
		d := json.NewDecoder(strings.NewReader(string(raw)))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			return nil, err
		}
		switch x := v.(type) {
		case json.Number:
			out[i] = x.String()
		case string:
			if cols[j].Binary && strings.HasPrefix(x, `\x`) {
				b, err := hex.DecodeString(x[2:])
				if err != nil {
					return nil, err
				}
				out[i] = b
			} else {
				out[i] = x
			}
		default:
			return nil, fmt.Errorf("key column %s holds %s", cols[j].Name, raw)
		}
	}
	return out, nil
}

// snapshotQuery emits one snapshot_read entry per row and returns the row
// count and the raw key of the last row (selected after the column list).
func (s *Source) snapshotQuery(ctx context.Context, p *snapshotPlan, table string, sch *capture.TableSchema, cols []ColumnInfo, pk []int, q string, args ...any) (int, []any, error) {
	rows, err := p.conn.QueryContext(ctx, q, args...)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	raw := make([]sql.RawBytes, len(cols)+len(pk))
	dest := make([]any, len(raw))
	for i := range raw {
		dest[i] = &raw[i]
	}
	n := 0
	var lastKey []any
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return n, nil, err
		}
		vals, err := SQLRowValues(cols, raw[:len(cols)])
		if err != nil {
			return n, nil, err
		}
		after, err := AppendRow(nil, cols, vals)
		if err != nil {
			return n, nil, err
		}
		var key []byte
		if len(pk) > 0 {
			if key, err = AppendKey(nil, cols, vals, pk); err != nil {
				return n, nil, err
			}
			lastKey = make([]any, len(pk))
			for i := range pk {
				lastKey[i] = append([]byte(nil), raw[len(cols)+i]...)
			}
		}
		var fp []byte
		if sch != nil {
			if s.schemas.Needs(table, sch) {
				// A snapshot schema entry takes a row counter slot of its
				// own, so a table that changed while a crashed snapshot was
				// down gets its new schema entry above the journal's
				// high-water position, not on top of the old one.
				p.counter++
				if err := s.ensureSchema(ctx, table, sch, p.position(), journal.Entry{}); err != nil {
					return n, nil, err
				}
				p.framed = true
			}
			var abuf []byte
			var ok bool
			if _, after, ok = s.encodeImages(sch, table, &abuf, nil, after); ok {
				fp = sch.FP[:]
			}
		}
		p.counter++
		n++
		e := journal.Entry{
			Kind: journal.KindSnapshotRead, SourcePosition: p.position(),
			Table: table, Key: key, After: after, SchemaFingerprint: fp,
		}
		if err := s.emit(ctx, e); err != nil {
			return n, nil, err
		}
		p.framed = true
	}
	return n, lastKey, rows.Err()
}
