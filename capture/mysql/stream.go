package mysql

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/google/uuid"

	"github.com/cairnlog/cairn/capture"
	"github.com/cairnlog/cairn/journal"
)

// MariaDB GTID event flags go-mysql does not name (log_event.h).
const (
	mariadbPreparedXA  = 64
	mariadbCompletedXA = 128
)

var systemSchemas = map[string]bool{"mysql": true, "information_schema": true, "performance_schema": true, "sys": true}

// handle turns one binlog event into journal entries.
func (s *Source) handle(ctx context.Context, ev *replication.BinlogEvent) error {
	switch e := ev.Event.(type) {
	case *replication.MariadbGTIDEvent:
		if e.Flags&(mariadbPreparedXA|mariadbCompletedXA) != 0 {
			// An XA group carries its rows at prepare and commits (or
			// rolls back) in a later group; journaling them at prepare
			// could record changes that never committed.
			return capture.Permanent(fmt.Errorf("%w: XA transaction in GTID %s: Cairn does not capture XA transactions; "+
				"the journal keeps everything before it", ErrUnsupported, e.GTID.String()))
		}
		// FL_STANDALONE: a group without COMMIT or Xid (DDL). CREATE TABLE
		// ... SELECT is flagged DDL but ends in a COMMIT after its rows.
		return s.open(txGTID{maria: e.GTID}, ev.Header.Timestamp, e.IsStandalone())
	case *replication.GTIDEvent:
		sid, err := uuid.FromBytes(e.SID)
		if err != nil {
			return fmt.Errorf("%w: GTID event with source id %x: %v", ErrProtocol, e.SID, err)
		}
		return s.open(txGTID{sid: sid, tag: e.Tag, gno: e.GNO}, ev.Header.Timestamp, false)
	case *replication.TransactionPayloadEvent:
		// binlog_transaction_compression: the transaction's events, unpacked.
		for _, inner := range e.Events {
			if err := s.handle(ctx, inner); err != nil {
				return err
			}
		}
	case *replication.QueryEvent:
		return s.query(ctx, string(e.Schema), strings.TrimSpace(string(e.Query)))
	case *replication.XIDEvent:
		return s.commit(ctx)
	case *replication.RowsEvent:
		return s.rows(ctx, ev.Header.EventType, e)
	case *replication.TableMapEvent, *replication.RotateEvent, *replication.FormatDescriptionEvent,
		*replication.MariadbGTIDListEvent, *replication.MariadbBinlogCheckPointEvent, *replication.MariadbAnnotateRowsEvent,
		*replication.PreviousGTIDsEvent, *replication.RowsQueryEvent, *replication.GenericEvent:
		// Table maps arrive with the rows events that use them; the rest
		// carries nothing to capture (heartbeats are generic events).
	}
	return nil
}

// query handles a query event: transaction control, or a statement that
// is journaled as DDL.
func (s *Source) query(ctx context.Context, schema, q string) error {
	first := !s.tx.sawQuery
	s.tx.sawQuery = true
	switch {
	case strings.EqualFold(q, "BEGIN"):
		s.tx.sawBegin = true
		return nil
	case strings.EqualFold(q, "COMMIT"), strings.EqualFold(q, "ROLLBACK"):
		// COMMIT ends a group of non-transactional changes. A group that
		// ends in ROLLBACK holds only the non-transactional changes the
		// rollback could not undo: they happened, so they are kept.
		return s.commit(ctx)
	case hasPrefixFold(q, "SAVEPOINT"), hasPrefixFold(q, "ROLLBACK TO"), hasPrefixFold(q, "RELEASE SAVEPOINT"):
		return nil // the binlog holds only what the transaction kept
	case hasPrefixFold(q, "XA "):
		// An XA transaction's rows come in a prepared group and commit (or
		// roll back) in a later one; journaling them at prepare could
		// record changes that never committed.
		return capture.Permanent(fmt.Errorf("%w: XA transaction in GTID %s (%.40q): Cairn does not capture XA transactions; "+
			"the journal keeps everything before it", ErrUnsupported, s.tx.text, q))
	}
	if err := s.ddl(ctx, schema, q); err != nil {
		return err
	}
	// A DDL is a transaction of its own, without BEGIN or Xid: MariaDB
	// flags its event group, MySQL sends the query as the group's first.
	if s.tx.standalone || s.flavor == flavorMySQL && first && !s.tx.sawBegin {
		return s.commit(ctx)
	}
	return nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// open starts a transaction at its GTID event.
func (s *Source) open(g txGTID, timestamp uint32, standalone bool) error {
	if s.tx.open && s.tx.begun {
		return capture.Permanent(fmt.Errorf("%w: transaction %s ended without Xid or COMMIT before %s began; "+
			"the journal keeps everything before it", ErrProtocol, s.tx.text, g.String(s.flavor)))
	}
	ordinal, err := s.state.next(g)
	if err != nil {
		return capture.Permanent(err)
	}
	s.tx = txState{
		open: true, gtid: g, ordinal: ordinal, text: g.String(s.flavor),
		commitTime: time.Unix(int64(timestamp), 0).UTC(), standalone: standalone,
	}
	return nil
}

func (s *Source) captured(schema, table string) bool {
	if systemSchemas[schema] {
		return false
	}
	if s.tables != nil {
		return s.tables[schema+"."+table]
	}
	return s.dsn.DBName == "" || schema == s.dsn.DBName
}

func (s *Source) entry(kind journal.Kind, pos []byte) journal.Entry {
	return journal.Entry{
		Kind: kind, SourcePosition: pos,
		TxID: s.tx.text, CommitTime: s.tx.commitTime,
	}
}

// begin emits tx_begin before a transaction's first captured change, so a
// transaction that touched no captured table leaves no trace.
func (s *Source) begin(ctx context.Context) error {
	if !s.tx.open {
		return capture.Permanent(fmt.Errorf("%w: row change outside a GTID event group (after %s)", ErrProtocol, s.stateText))
	}
	if s.tx.begun {
		return nil
	}
	s.tx.begun = true
	return s.emit(ctx, s.entry(journal.KindTxBegin, FramePosition(s.tx.ordinal, 0, s.stateText)))
}

// change emits one row change. before and after are canonical row JSON;
// with a schema they are stored as Avro appended to abuf, after the
// table's schema entry when that is due.
func (s *Source) change(ctx context.Context, table string, sch *capture.TableSchema, abuf *[]byte, op journal.Op, key, before, after []byte) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	var fp []byte
	if sch != nil {
		if s.schemas.Needs(table, sch) {
			prev := Position(s.tx.ordinal, s.tx.index)
			if s.tx.index == 0 { // right after tx_begin
				prev = FramePosition(s.tx.ordinal, 0, s.stateText)
			}
			if err := s.ensureSchema(ctx, table, sch, capture.SchemaPosition(prev), journal.Entry{TxID: s.tx.text, CommitTime: s.tx.commitTime}); err != nil {
				return err
			}
		}
		var ok bool
		if before, after, ok = s.encodeImages(sch, table, abuf, before, after); ok {
			fp = sch.FP[:]
		}
	}
	s.tx.index++
	e := s.entry(journal.KindChange, Position(s.tx.ordinal, s.tx.index))
	e.Table, e.Op, e.Key, e.Before, e.After, e.SchemaFingerprint = table, op, key, before, after, fp
	return s.emit(ctx, e)
}

func (s *Source) commit(ctx context.Context) error {
	if !s.tx.open {
		return nil
	}
	if err := s.state.apply(s.tx.gtid); err != nil {
		return capture.Permanent(err)
	}
	s.stateText = s.state.String()
	if s.tx.begun {
		e := s.entry(journal.KindTxCommit, FramePosition(s.tx.ordinal, s.tx.index+1, s.stateText))
		e.Metadata = map[string]string{"changes": strconv.FormatUint(s.tx.index, 10)}
		if err := s.emit(ctx, e); err != nil {
			return err
		}
	}
	s.tx = txState{}
	return nil
}

// shape returns the columns and primary key of a rows event's table: from
// the table map when it carries full row metadata, else from
// information_schema, read once per table and read again after any DDL in
// its database.
func (s *Source) shape(ctx context.Context, tm *replication.TableMapEvent) (tableShape, error) {
	if sh, ok := s.colsFor[tm]; ok {
		return sh, nil
	}
	schema, table := string(tm.Schema), string(tm.Table)
	name := schema + "." + table
	var sh tableShape
	cols, err := ColumnsFromTableMap(tm)
	switch {
	case err == nil:
		sh.cols = cols
		for _, c := range tm.PrimaryKey {
			sh.pk = append(sh.pk, int(c))
		}
		sh.sch = s.tableSchema(schema, table, sh.cols, sh.pk)
	case errors.Is(err, ErrRowMetadata):
		var ok bool
		if sh, ok = s.infoSchema[name]; !ok {
			if sh.cols, sh.pk, err = TableColumns(ctx, s.db, schema, table); err != nil {
				return sh, fmt.Errorf("%s: read its columns from information_schema: %w", name, err)
			}
			sh.sch = s.tableSchema(schema, table, sh.cols, sh.pk)
			s.infoSchema[name] = sh
		}
		if len(sh.cols) != int(tm.ColumnCount) {
			return sh, capture.Permanent(fmt.Errorf("%w: %s has %d columns now but the binlog event being read has %d: its shape changed after "+
				"this event, and without binlog_row_metadata=FULL Cairn only sees shape changes it reads happen. Set binlog_row_metadata=FULL",
				ErrServerSettings, name, len(sh.cols), tm.ColumnCount))
		}
	default:
		return sh, fmt.Errorf("%s: %w", name, err)
	}
	if len(s.colsFor) > 1024 {
		clear(s.colsFor)
	}
	s.colsFor[tm] = sh
	return sh, nil
}

type tableShape struct {
	cols []ColumnInfo
	pk   []int
	sch  *capture.TableSchema // nil: rows stay JSON
}

// ddl records a schema change statement of a captured database.
func (s *Source) ddl(ctx context.Context, schema, query string) error {
	// Any table's shape may have changed (the statement can name another
	// database than the session's): read every shape again.
	clear(s.infoSchema)
	if systemSchemas[schema] || s.tables == nil && s.dsn.DBName != "" && schema != s.dsn.DBName {
		return nil
	}
	if err := s.begin(ctx); err != nil {
		return err
	}
	s.tx.index++
	e := s.entry(journal.KindChange, Position(s.tx.ordinal, s.tx.index))
	e.Table, e.Op, e.Payload = schema, journal.OpDDL, []byte(query)
	return s.emit(ctx, e)
}

func (s *Source) rows(ctx context.Context, t replication.EventType, e *replication.RowsEvent) error {
	schema, table := string(e.Table.Schema), string(e.Table.Table)
	if !s.captured(schema, table) {
		return nil
	}
	shape, err := s.shape(ctx, e.Table)
	if err != nil {
		return err
	}
	cols, pk := shape.cols, shape.pk
	name := schema + "." + table
	// Row and key images of one event are carved from one buffer instead of
	// a fresh slice each (the entries keep their sub-slices).
	buf := make([]byte, 0, 192*len(e.Rows))
	var abuf []byte
	if shape.sch != nil {
		abuf = make([]byte, 0, 128*len(e.Rows))
	}
	image := func(row []any) ([]byte, error) {
		start := len(buf)
		var err error
		buf, err = AppendRow(buf, cols, row)
		return buf[start:len(buf):len(buf)], err
	}
	key := func(row []any) ([]byte, error) {
		if len(pk) == 0 {
			return nil, nil
		}
		start := len(buf)
		var err error
		buf, err = AppendKey(buf, cols, row, pk)
		return buf[start:len(buf):len(buf)], err
	}
	switch e.Type() {
	case replication.EnumRowsEventTypeInsert, replication.EnumRowsEventTypeDelete:
		op := journal.OpInsert
		if e.Type() == replication.EnumRowsEventTypeDelete {
			op = journal.OpDelete
		}
		for _, row := range e.Rows {
			img, err := image(row)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			k, err := key(row)
			if err != nil {
				return fmt.Errorf("%s key: %w", name, err)
			}
			before, after := []byte(nil), img
			if op == journal.OpDelete {
				before, after = img, nil
			}
			if err := s.change(ctx, name, shape.sch, &abuf, op, k, before, after); err != nil {
				return err
			}
		}
	case replication.EnumRowsEventTypeUpdate:
		if len(e.Rows)%2 != 0 {
			return fmt.Errorf("%w: update event for %s with %d row images", ErrProtocol, name, len(e.Rows))
		}
		for i := 0; i < len(e.Rows); i += 2 {
			before, err := image(e.Rows[i])
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			after, err := image(e.Rows[i+1])
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			k, err := key(e.Rows[i+1])
			if err != nil {
				return fmt.Errorf("%s key: %w", name, err)
			}
			if err := s.change(ctx, name, shape.sch, &abuf, journal.OpUpdate, k, before, after); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("%w: rows event type %v for %s", ErrProtocol, t, name)
	}
	return nil
}
