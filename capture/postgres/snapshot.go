package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/cairnlog/cairn/capture"
	"github.com/cairnlog/cairn/journal"
)

// The initial snapshot copies every published table as snapshot_read
// entries before streaming starts. Its positions are eight zero bytes and a
// row counter, so they sort before every streamed position (commit LSNs are
// never zero). Tables are read in (schema, name) order, each in chunks
// ordered by primary key; the last durable row names where to resume.
//
// When Cairn creates the slot it exports the slot's snapshot and reads
// through it, so the copy is exactly the state the stream starts after. A
// snapshot that is resumed after a crash can no longer use that exported
// snapshot and reads the rest from a fresh one: rows changed meanwhile show
// their newer values and also arrive as changes from the stream, which a
// consumer that upserts by key applies idempotently (docs/decisions.md).

type snapshotPlan struct {
	conn    *pgx.Conn
	tx      pgx.Tx
	counter uint64 // last durable snapshot row number
	table   string // resume within this table ("" = from the first)
	after   []byte // canonical key of the last durable row of table
	schemas map[string]*tableSchema
}

func snapshotPosition(counter uint64) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b[8:], counter)
	return b
}

// isSnapshotPosition: a snapshot row's position, or the position of a
// schema entry that follows one (schemaPosition).
func isSnapshotPosition(p []byte) bool {
	return (len(p) == 16 || len(p) == 17 && p[16] == schemaPositionMark) && binary.BigEndian.Uint64(p) == 0
}

// planSnapshot decides whether a snapshot (or the rest of one) is due and,
// if so, opens its transaction, importing the exported snapshot when there
// is one. It runs before the replication connection is used again, which
// keeps an exported snapshot valid.
func (s *Source) planSnapshot(ctx context.Context, resume capture.Resume, exported string) (*snapshotPlan, error) {
	if s.cfg.Snapshot != "initial" {
		return nil, nil
	}
	p := &snapshotPlan{}
	switch {
	case len(resume.Position) == 0:
		if exported == "" {
			s.log.Warn("the slot existed before any snapshot row was journaled; reading the snapshot from a fresh transaction")
		}
	case isSnapshotPosition(resume.Position):
		p.counter = binary.BigEndian.Uint64(resume.Position[8:16])
		if resume.Last != nil && resume.Last.Kind == journal.KindSnapshotRead {
			p.table, p.after = resume.Last.Table, resume.Last.Key
		}
		if resume.Last != nil && resume.Last.Kind == journal.KindSchema {
			// A snapshot records a table's schema just before its first
			// row: the table starts over from its beginning.
			p.table = resume.Last.Table
		}
		s.log.Info("resuming the initial snapshot", "after_row", p.counter, "table", p.table)
	default:
		return nil, nil // the snapshot finished and streaming began
	}
	conn, err := connectSQL(ctx, s.cfg.DSN)
	if err != nil {
		return nil, err
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		conn.Close(ctx)
		return nil, fmt.Errorf("begin snapshot transaction: %w", err)
	}
	if exported != "" {
		if _, err := tx.Exec(ctx, "SET TRANSACTION SNAPSHOT '"+exported+"'"); err != nil {
			conn.Close(ctx)
			return nil, fmt.Errorf("import the slot's snapshot %s: %w", exported, err)
		}
	}
	p.conn, p.tx = conn, tx
	return p, nil
}

type pkColumn struct {
	name, typ string
	oid       uint32
}

func (s *Source) runSnapshot(ctx context.Context, p *snapshotPlan) error {
	defer p.conn.Close(context.Background())
	defer p.tx.Rollback(context.Background())
	rows, err := p.tx.Query(ctx, `SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1, 2`, s.cfg.Publication)
	if err != nil {
		return fmt.Errorf("list published tables: %w", err)
	}
	var tables []string
	for rows.Next() {
		var schema, name string
		if err := rows.Scan(&schema, &name); err != nil {
			return err
		}
		tables = append(tables, schema+"."+name)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list published tables: %w", err)
	}
	for _, t := range tables {
		if p.table != "" && t < p.table {
			continue // done before the interruption
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

func (s *Source) primaryKeyColumns(ctx context.Context, tx pgx.Tx, table string) ([]pkColumn, error) {
	schema, name, _ := splitTable(table)
	rows, err := tx.Query(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.atttypid
		FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
		WHERE i.indrelid = $1::regclass AND i.indisprimary
		ORDER BY array_position(i.indkey, a.attnum)`, pgx.Identifier{schema, name}.Sanitize())
	if err != nil {
		return nil, err
	}
	var pk []pkColumn
	for rows.Next() {
		var c pkColumn
		if err := rows.Scan(&c.name, &c.typ, &c.oid); err != nil {
			return nil, err
		}
		pk = append(pk, c)
	}
	return pk, rows.Err()
}

// snapshotTable reads one table in primary-key chunks after the given key
// (a table without a primary key is read in one pass).
func (s *Source) snapshotTable(ctx context.Context, p *snapshotPlan, table string, after []byte) error {
	pk, err := s.primaryKeyColumns(ctx, p.tx, table)
	if err != nil {
		return err
	}
	if err := s.snapshotSchema(ctx, p, table, pk); err != nil {
		return err
	}
	schema, name, _ := splitTable(table)
	from := " FROM " + pgx.Identifier{schema, name}.Sanitize()
	if len(pk) == 0 {
		_, err := s.snapshotQuery(ctx, p, table, nil, "SELECT *"+from)
		return err
	}
	var names, casts []string
	for i, c := range pk {
		names = append(names, pgx.Identifier{c.name}.Sanitize())
		casts = append(casts, fmt.Sprintf("$%d::%s", i+1, c.typ))
	}
	order := strings.Join(names, ", ")
	var last []any
	if after != nil {
		if last, err = s.keyTexts(pk, after); err != nil {
			return fmt.Errorf("resume key %s: %w", after, err)
		}
	}
	for {
		sql := "SELECT *" + from
		if last != nil {
			sql += " WHERE (" + order + ") > (" + strings.Join(casts, ", ") + ")"
		}
		sql += fmt.Sprintf(" ORDER BY %s LIMIT %d", order, s.cfg.SnapshotChunk)
		n, err := s.snapshotQuery(ctx, p, table, pk, sql, last...)
		if err != nil {
			return err
		}
		if n.rows < s.cfg.SnapshotChunk {
			return nil
		}
		last = n.lastKey
	}
}

// keyTexts turns a canonical key image back into the text of each column.
func (s *Source) keyTexts(pk []pkColumn, key []byte) ([]any, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(key, &m); err != nil {
		return nil, err
	}
	out := make([]any, len(pk))
	for i, c := range pk {
		ti, ok := s.types.Lookup(c.oid)
		if !ok {
			return nil, fmt.Errorf("unknown type %d of key column %s", c.oid, c.name)
		}
		text, isNull, err := TextOf(ti, m[c.name])
		if err != nil || isNull {
			return nil, fmt.Errorf("key column %s: %v", c.name, err)
		}
		out[i] = text
	}
	return out, nil
}

type chunkResult struct {
	rows    int
	lastKey []any
}

// snapshotQuery reads rows in text format (what pgoutput would send) and
// emits one snapshot_read entry per row.
func (s *Source) snapshotQuery(ctx context.Context, p *snapshotPlan, table string, pk []pkColumn, sql string, args ...any) (chunkResult, error) {
	var res chunkResult
	qargs := append([]any{pgx.QueryExecModeSimpleProtocol}, args...)
	rows, err := p.tx.Query(ctx, sql, qargs...)
	if err != nil {
		return res, err
	}
	defer rows.Close()
	fields := rows.FieldDescriptions()
	cols := make([]Column, len(fields))
	idx := map[string]int{}
	for i, f := range fields {
		cols[i] = Column{Name: f.Name, TypeOID: f.DataTypeOID}
		idx[f.Name] = i
	}
	var keyIdx []int
	for _, c := range pk {
		keyIdx = append(keyIdx, idx[c.name])
	}
	ts, ok := p.schemas[table] // nil: no schema could be derived, rows stay JSON
	if !ok {
		return res, fmt.Errorf("no schema derived for %s", table)
	}
	vals := make([]Value, len(cols))
	for rows.Next() {
		raw := rows.RawValues()
		for i, v := range raw {
			if v == nil {
				vals[i] = Value{Kind: ValueNull}
			} else {
				vals[i] = Value{Kind: ValueText, Data: v}
			}
		}
		after, err := AppendRow(nil, s.types, cols, vals)
		if err != nil {
			return res, err
		}
		var key []byte
		if len(keyIdx) > 0 {
			kc, kv := make([]Column, len(keyIdx)), make([]Value, len(keyIdx))
			for i, j := range keyIdx {
				kc[i], kv[i] = cols[j], vals[j]
			}
			if key, err = AppendRow(nil, s.types, kc, kv); err != nil {
				return res, err
			}
			res.lastKey = make([]any, len(keyIdx))
			for i, j := range keyIdx {
				res.lastKey[i] = string(bytes.Clone(raw[j]))
			}
		}
		e := journal.Entry{Kind: journal.KindSnapshotRead, Table: table, Key: key, After: after}
		if ts == nil {
			// kept as JSON (logged when deriving)
		} else if enc, err := ts.Codec.Encode(nil, after); err == nil {
			if err := s.ensureSchema(ctx, table, ts, snapshotPosition(p.counter), "", journal.Entry{}); err != nil {
				return res, err
			}
			e.After, e.SchemaFingerprint = enc, ts.FP[:]
		} else {
			s.log.Warn("row does not fit its derived schema; kept as JSON", "table", table, "err", err)
		}
		p.counter++
		res.rows++
		e.SourcePosition = snapshotPosition(p.counter)
		if err := s.emit(ctx, e); err != nil {
			return res, err
		}
	}
	return res, rows.Err()
}

// snapshotSchema derives a table's schema as the snapshot sees it, from
// the columns of SELECT * (what the chunk queries return) and the catalog
// read in the snapshot's transaction.
func (s *Source) snapshotSchema(ctx context.Context, p *snapshotPlan, table string, pk []pkColumn) error {
	ns, name, err := splitTable(table)
	if err != nil {
		return err
	}
	rows, err := p.tx.Query(ctx, "SELECT * FROM "+pgx.Identifier{ns, name}.Sanitize()+" LIMIT 0")
	if err != nil {
		return err
	}
	fields := rows.FieldDescriptions()
	cols := make([]Column, len(fields))
	idx := map[string]int{}
	for i, f := range fields {
		cols[i] = Column{Name: f.Name, TypeOID: f.DataTypeOID}
		idx[f.Name] = i
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var keyIdx []int
	for _, c := range pk {
		keyIdx = append(keyIdx, idx[c.name])
	}
	var relid uint32
	if err := p.tx.QueryRow(ctx, `SELECT $1::regclass::oid`, pgx.Identifier{ns, name}.Sanitize()).Scan(&relid); err != nil {
		return fmt.Errorf("find %s in the catalog: %w", table, err)
	}
	ts, err := s.deriveTable(ctx, p.tx, relid, ns, name, cols, keyIdx)
	if err != nil {
		return err
	}
	if p.schemas == nil {
		p.schemas = map[string]*tableSchema{}
	}
	p.schemas[table] = ts
	return nil
}
