package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/cairnlog/cairn/journal"
)

// relation is the current shape of a published table, from its last
// Relation message.
type relation struct {
	table    string // schema.table
	ns, name string
	relid    uint32
	cols     []Column
	key      []int        // indexes of replica identity columns
	sch      *tableSchema // the derived schema of this shape
}

// newRelation builds a relation from its Relation message. The key is the
// primary key when the table has one (so REPLICA IDENTITY FULL tables still
// key by it), else the replica identity columns the message flags.
func newRelation(m *pglogrepl.RelationMessage, pk map[string]bool) *relation {
	r := &relation{table: m.Namespace + "." + m.RelationName, ns: m.Namespace, name: m.RelationName, relid: m.RelationID}
	for i, c := range m.Columns {
		r.cols = append(r.cols, Column{Name: c.Name, TypeOID: c.DataType})
		if len(pk) > 0 && pk[c.Name] || len(pk) == 0 && c.Flags&1 == 1 {
			r.key = append(r.key, i)
		}
	}
	return r
}

// primaryKey reads the primary key columns of a table from the catalog.
func (s *Source) primaryKey(ctx context.Context, relid uint32) (map[string]bool, error) {
	rows, err := s.meta.Query(ctx, `SELECT a.attname FROM pg_index i
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
		WHERE i.indrelid = $1 AND i.indisprimary`, relid)
	if err != nil {
		return nil, fmt.Errorf("read primary key of relation %d: %w", relid, err)
	}
	defer rows.Close()
	pk := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		pk[n] = true
	}
	return pk, rows.Err()
}

// receive reads the replication stream until ctx ends or the connection fails.
func (s *Source) receive(ctx context.Context) error {
	nextStatus := time.Now()
	sentLSN := pglogrepl.LSN(0)
	lastSent := time.Time{}
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// Confirm progress promptly (at most every 100ms) so a restart
		// resends little; otherwise report on the status interval.
		flush := pglogrepl.LSN(s.flushLSN.Load())
		if time.Now().After(nextStatus) || flush > sentLSN && time.Since(lastSent) >= 100*time.Millisecond {
			if err := s.sendStatus(ctx, flush); err != nil {
				return err
			}
			sentLSN, lastSent = flush, time.Now()
			nextStatus = lastSent.Add(s.cfg.StatusInterval)
		}
		// A read deadline on the socket instead of a context per message:
		// pgconn watches a cancellable context with a goroutine and a timer,
		// which per message costs more than decoding it. Close unblocks the
		// read by closing the connection.
		if err := s.repl.Conn().SetReadDeadline(time.Now().Add(time.Second)); err != nil {
			return fmt.Errorf("replication stream: %w", err)
		}
		msg, err := s.repl.ReceiveMessage(context.Background())
		if err != nil {
			if pgconn.Timeout(err) && ctx.Err() == nil {
				continue
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("replication stream: %w", err)
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			if len(m.Data) == 0 {
				continue
			}
			switch m.Data[0] {
			case pglogrepl.PrimaryKeepaliveMessageByteID:
				k, err := pglogrepl.ParsePrimaryKeepaliveMessage(m.Data[1:])
				if err != nil {
					return fmt.Errorf("%w: keepalive: %v", ErrProtocol, err)
				}
				if k.ReplyRequested {
					nextStatus = time.Time{}
				}
			case pglogrepl.XLogDataByteID:
				x, err := pglogrepl.ParseXLogData(m.Data[1:])
				if err != nil {
					return fmt.Errorf("%w: XLogData: %v", ErrProtocol, err)
				}
				if err := s.handle(ctx, x.WALData); err != nil {
					return err
				}
			}
		case *pgproto3.ErrorResponse:
			return fmt.Errorf("replication stream: %w", pgconn.ErrorResponseToPgError(m))
		default:
			return fmt.Errorf("%w: %T", ErrProtocol, msg)
		}
	}
}

func (s *Source) sendStatus(ctx context.Context, lsn pglogrepl.LSN) error {
	err := pglogrepl.SendStandbyStatusUpdate(ctx, s.repl, pglogrepl.StandbyStatusUpdate{
		WALWritePosition: lsn, WALFlushPosition: lsn, WALApplyPosition: lsn,
	})
	if err != nil {
		return fmt.Errorf("send standby status: %w", err)
	}
	return nil
}

// handle turns one pgoutput message into journal entries.
func (s *Source) handle(ctx context.Context, data []byte) error {
	msg, err := pglogrepl.Parse(data)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	switch m := msg.(type) {
	case *pglogrepl.RelationMessage:
		pk, err := s.primaryKey(ctx, m.RelationID)
		if err != nil {
			return err
		}
		r := newRelation(m, pk)
		for _, c := range r.cols {
			if _, ok := s.types.Lookup(c.TypeOID); !ok {
				// A type created after we connected (an enum, a domain): reload.
				if s.types, err = LoadTypes(ctx, s.meta); err != nil {
					return fmt.Errorf("reload types for %s: %w", r.table, err)
				}
				break
			}
		}
		if r.sch, err = s.deriveTable(ctx, s.meta, m.RelationID, r.ns, r.name, r.cols, r.key); err != nil {
			return err
		}
		s.rels[m.RelationID] = r
	case *pglogrepl.BeginMessage:
		s.tx = txState{open: true, xid: m.Xid, lsn: m.FinalLSN, commitTime: m.CommitTime, txid: strconv.FormatUint(uint64(m.Xid), 10)}
		return s.emit(ctx, s.txEntry(journal.KindTxBegin))
	case *pglogrepl.InsertMessage:
		r, err := s.relation(m.RelationID)
		if err != nil {
			return err
		}
		after, err := s.row(r, m.Tuple, nil)
		if err != nil {
			return err
		}
		key, err := s.keyOf(r, m.Tuple)
		if err != nil {
			return err
		}
		return s.change(ctx, r, journal.OpInsert, key, nil, after, false)
	case *pglogrepl.UpdateMessage:
		r, err := s.relation(m.RelationID)
		if err != nil {
			return err
		}
		after, err := s.row(r, m.NewTuple, nil)
		if err != nil {
			return err
		}
		key, err := s.keyOf(r, m.NewTuple)
		if err != nil {
			return err
		}
		before, err := s.oldRow(r, m.OldTupleType, m.OldTuple)
		if err != nil {
			return err
		}
		return s.change(ctx, r, journal.OpUpdate, key, before, after, m.OldTupleType == 'K')
	case *pglogrepl.DeleteMessage:
		r, err := s.relation(m.RelationID)
		if err != nil {
			return err
		}
		before, err := s.oldRow(r, m.OldTupleType, m.OldTuple)
		if err != nil {
			return err
		}
		key, err := s.keyOf(r, m.OldTuple)
		if err != nil {
			return err
		}
		return s.change(ctx, r, journal.OpDelete, key, before, nil, m.OldTupleType == 'K')
	case *pglogrepl.TruncateMessage:
		for _, id := range m.RelationIDs {
			r, err := s.relation(id)
			if err != nil {
				return err
			}
			e := s.changeEntry(r, journal.OpTruncate)
			e.Metadata = truncateOptions(m.Option)
			if err := s.emit(ctx, e); err != nil {
				return err
			}
		}
	case *pglogrepl.CommitMessage:
		if !s.tx.open {
			return fmt.Errorf("%w: commit without begin at %s", ErrProtocol, m.CommitLSN)
		}
		e := s.txEntry(journal.KindTxCommit)
		e.Metadata = map[string]string{"changes": strconv.FormatUint(s.tx.index, 10), "pg.end_lsn": m.TransactionEndLSN.String()}
		if err := s.emit(ctx, e); err != nil {
			return err
		}
		s.addAck(e.SourcePosition, m.TransactionEndLSN)
		s.tx.open = false
	case *pglogrepl.LogicalDecodingMessage:
		if !m.Transactional && m.Prefix == heartbeatPrefix && !s.tx.open {
			// Every transaction that committed before the heartbeat has
			// been received: once what was emitted is durable, the slot may
			// move past the heartbeat.
			s.addAck(s.lastEmitted, m.LSN)
		}
	case *pglogrepl.TypeMessage, *pglogrepl.OriginMessage:
		// Types are read from pg_type; origins are not tracked.
	default:
		return fmt.Errorf("%w: %T", ErrProtocol, msg)
	}
	return nil
}

func truncateOptions(opt uint8) map[string]string {
	md := map[string]string{}
	if opt&1 != 0 {
		md["cascade"] = "true"
	}
	if opt&2 != 0 {
		md["restart_identity"] = "true"
	}
	if len(md) == 0 {
		return nil
	}
	return md
}

func (s *Source) relation(id uint32) (*relation, error) {
	r, ok := s.rels[id]
	if !ok {
		return nil, fmt.Errorf("%w: change for relation %d before its Relation message", ErrProtocol, id)
	}
	if !s.tx.open {
		return nil, fmt.Errorf("%w: change for %s outside a transaction", ErrProtocol, r.table)
	}
	return r, nil
}

func (s *Source) txEntry(kind journal.Kind) journal.Entry {
	idx := uint64(0)
	if kind == journal.KindTxCommit {
		idx = s.tx.index + 1
	}
	return journal.Entry{
		Kind: kind, SourcePosition: Position(s.tx.lsn, idx),
		TxID: s.tx.txid, CommitTime: s.tx.commitTime,
	}
}

func (s *Source) changeEntry(r *relation, op journal.Op) journal.Entry {
	s.tx.index++
	return journal.Entry{
		Kind: journal.KindChange, SourcePosition: Position(s.tx.lsn, s.tx.index),
		TxID: s.tx.txid, CommitTime: s.tx.commitTime,
		Table: r.table, Op: op,
	}
}

// change emits a row change, its images in Avro, preceded by a schema
// entry when the table's schema is not the latest recorded. keyOnly: the
// before image is a key-only old tuple, kept as canonical key JSON.
func (s *Source) change(ctx context.Context, r *relation, op journal.Op, key, before, after []byte, keyOnly bool) error {
	full := before
	if keyOnly {
		full = nil
	}
	encBefore, encAfter, ok, err := s.encodeRow(ctx, r, full, after)
	if err != nil {
		return err
	}
	if ok {
		prev := Position(s.tx.lsn, s.tx.index)
		if err := s.ensureSchema(ctx, r.table, r.sch, prev, s.tx.txid, journal.Entry{CommitTime: s.tx.commitTime}); err != nil {
			return err
		}
	}
	e := s.changeEntry(r, op)
	e.Key, e.Before, e.After = key, before, after
	if ok {
		e.SchemaFingerprint = r.sch.FP[:]
		e.After = encAfter
		if keyOnly {
			if before != nil {
				e.Metadata = map[string]string{"before_image": "key"}
			}
		} else {
			e.Before = encBefore
		}
	}
	return s.emit(ctx, e)
}

// tupleValues views a tuple's columns as Values, reusing the source's scratch slice.
func (s *Source) tupleValues(t *pglogrepl.TupleData) []Value {
	vals := s.scratch[:0]
	for _, c := range t.Columns {
		vals = append(vals, Value{Kind: c.DataType, Data: c.Data})
	}
	s.scratch = vals
	return vals
}

// row renders a whole tuple; only lists the columns at idx when idx is non-nil.
func (s *Source) row(r *relation, t *pglogrepl.TupleData, idx []int) ([]byte, error) {
	if t == nil {
		return nil, nil
	}
	if len(t.Columns) != len(r.cols) {
		return nil, fmt.Errorf("%w: %s has %d columns but a tuple carries %d", ErrProtocol, r.table, len(r.cols), len(t.Columns))
	}
	vals := s.tupleValues(t)
	cols := r.cols
	if idx != nil {
		cols = make([]Column, len(idx))
		sub := make([]Value, len(idx))
		for i, j := range idx {
			cols[i], sub[i] = r.cols[j], vals[j]
		}
		vals = sub
	}
	out, err := AppendRow(nil, s.types, cols, vals)
	if err != nil {
		return nil, fmt.Errorf("decode a row of %s: %w", r.table, err)
	}
	return out, nil
}

// keyOf renders the replica identity columns of a tuple (nil when the table has none).
func (s *Source) keyOf(r *relation, t *pglogrepl.TupleData) ([]byte, error) {
	if len(r.key) == 0 || t == nil {
		return nil, nil
	}
	return s.row(r, t, r.key)
}

// oldRow renders an old tuple: the full row for REPLICA IDENTITY FULL ('O'),
// only the key columns for a key tuple ('K'), nothing when absent.
func (s *Source) oldRow(r *relation, kind uint8, t *pglogrepl.TupleData) ([]byte, error) {
	switch kind {
	case 'O':
		return s.row(r, t, nil)
	case 'K':
		return s.row(r, t, r.key)
	case 0:
		return nil, nil
	}
	return nil, fmt.Errorf("%w: old tuple kind %q", ErrProtocol, kind)
}
