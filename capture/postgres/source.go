package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cairnlog/cairn/capture"
	"github.com/cairnlog/cairn/journal"
)

// heartbeatPrefix marks Cairn's own logical decoding messages.
const heartbeatPrefix = "cairn.heartbeat"

// Source streams one PostgreSQL database's committed changes (pgoutput,
// protocol 1) as journal entries. It implements capture.Source.
//
// Positions are 16 bytes: the transaction's commit LSN, then the entry's
// index in the transaction (tx_begin 0, changes 1..n, tx_commit n+1), both
// big-endian, so bytewise order is commit order.
//
// Acknowledgement: the slot is confirmed up to a transaction's end LSN only
// once its tx_commit entry is durable, and up to a heartbeat's LSN only once
// everything received before it is durable. A crash mid-transaction makes
// PostgreSQL resend the whole transaction; the journal skips what it has.
type Source struct {
	cfg Config
	log *slog.Logger

	cancel context.CancelFunc
	wg     sync.WaitGroup
	repl   *pgconn.PgConn
	meta   *pgx.Conn // owned by the receiver goroutine after Start
	hb     *pgx.Conn // owned by the heartbeat goroutine
	types  *Types
	resume []byte

	queue   *capture.Queue
	stopped chan struct{}

	ackMu    sync.Mutex
	acks     []pendingAck
	durable  []byte
	flushLSN atomic.Uint64
	lag      atomic.Int64

	// receiver state
	rels        map[uint32]*relation
	scratch     []Value
	tx          txState
	lastEmitted []byte

	// schema state (receiver goroutine)
	schemas      *capture.SchemaRecorder
	incompatible atomic.Int64
}

type pendingAck struct {
	pos []byte // confirmable once this position is durable (nil: at once)
	lsn pglogrepl.LSN
}

type txState struct {
	open       bool
	xid        uint32
	lsn        pglogrepl.LSN
	commitTime time.Time
	index      uint64
	txid       string // xid in decimal, made once per transaction
}

// New returns a source; Start connects it.
func New(cfg Config) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Source{cfg: cfg, log: log.With("source", cfg.Name)}, nil
}

// Position encodes a commit LSN and an index as a journal source position.
func Position(lsn pglogrepl.LSN, index uint64) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b, uint64(lsn))
	binary.BigEndian.PutUint64(b[8:], index)
	return b
}

// ParsePosition splits a position made by Position. The position of a
// schema entry (Position of the entry before it and one more byte) parses
// as that entry's.
func ParsePosition(p []byte) (pglogrepl.LSN, uint64, error) {
	if len(p) == 17 && p[16] == schemaPositionMark {
		p = p[:16]
	}
	if len(p) != 16 {
		return 0, 0, fmt.Errorf("postgres position must be 16 bytes, got %d", len(p))
	}
	return pglogrepl.LSN(binary.BigEndian.Uint64(p)), binary.BigEndian.Uint64(p[8:]), nil
}

// ConfirmedLSN is the LSN last confirmed to the slot by this source.
func (s *Source) ConfirmedLSN() pglogrepl.LSN { return pglogrepl.LSN(s.flushLSN.Load()) }

// SlotName is the replication slot this source reads.
func (s *Source) SlotName() string { return s.cfg.Slot }

// LagBytes is the slot's lag behind the server's WAL, as last measured by
// the heartbeat (-1 when unknown).
func (s *Source) LagBytes() int64 { return s.lag.Load() }

// Start connects, checks the server, creates the publication and slot when
// absent, and starts streaming after resume.
func (s *Source) Start(ctx context.Context, resume capture.Resume) (err error) {
	s.resume = append([]byte(nil), resume.Position...)
	s.queue, s.acks = capture.NewQueue(s.cfg.MaxBatch, s.cfg.MaxBuffered), nil
	s.durable = s.resume
	s.stopped = make(chan struct{})
	s.rels, s.tx, s.lastEmitted = map[uint32]*relation{}, txState{}, nil
	if err := s.initSchemas(resume); err != nil {
		return err
	}
	s.lag.Store(-1)
	defer func() {
		if err != nil {
			s.closeConns()
		}
	}()
	if s.meta, err = connectSQL(ctx, s.cfg.DSN); err != nil {
		return err
	}
	if err = preflight(ctx, s.meta, s.cfg); err != nil {
		return err
	}
	if err = ensurePublication(ctx, s.meta, s.cfg); err != nil {
		return err
	}
	if s.repl, err = connectReplication(ctx, s.cfg.DSN); err != nil {
		return err
	}
	slot, err := readSlot(ctx, s.meta, s.cfg.Slot)
	if err != nil {
		return err
	}
	exported := ""
	if !slot.exists {
		action := "NOEXPORT_SNAPSHOT"
		if s.cfg.Snapshot == "initial" && len(s.resume) == 0 {
			action = "EXPORT_SNAPSHOT" // the initial snapshot reads exactly the state the slot starts after
		}
		res, err := pglogrepl.CreateReplicationSlot(ctx, s.repl, s.cfg.Slot, "pgoutput",
			pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, SnapshotAction: action})
		if err != nil {
			return fmt.Errorf("create replication slot %s: %w", s.cfg.Slot, err)
		}
		exported = res.SnapshotName
		s.log.Info("created replication slot", "slot", s.cfg.Slot, "consistent_point", res.ConsistentPoint)
	} else if err = checkSlot(ctx, s.meta, s.cfg, slot); err != nil {
		return err
	}
	if s.types, err = LoadTypes(ctx, s.meta); err != nil {
		return fmt.Errorf("load types: %w", err)
	}
	if s.cfg.HeartbeatInterval > 0 {
		if s.hb, err = connectSQL(ctx, s.cfg.DSN); err != nil {
			return err
		}
	}
	snap, err := s.planSnapshot(ctx, resume, exported)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(s.stopped)
		if snap != nil {
			if err := s.runSnapshot(rctx, snap); err != nil {
				s.fail(err)
				return
			}
		}
		err := pglogrepl.StartReplication(rctx, s.repl, s.cfg.Slot, 0, pglogrepl.StartReplicationOptions{
			PluginArgs: []string{"proto_version '1'", fmt.Sprintf("publication_names '%s'", s.cfg.Publication), "messages 'true'"},
		})
		if err != nil {
			s.fail(fmt.Errorf("start replication on slot %s: %w", s.cfg.Slot, err))
			return
		}
		s.fail(s.receive(rctx))
	}()
	if s.hb != nil {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.heartbeats(rctx)
		}()
	}
	return nil
}

// Next returns the oldest batch of decoded entries, waiting for one.
func (s *Source) Next(ctx context.Context) ([]journal.Entry, error) { return s.queue.Next(ctx) }

// Durable records that entries up to pos are in the journal and releases
// the acknowledgements that depended on them.
func (s *Source) Durable(pos []byte) {
	s.ackMu.Lock()
	defer s.ackMu.Unlock()
	if bytes.Compare(pos, s.durable) > 0 {
		s.durable = append([]byte(nil), pos...)
	}
	s.releaseAcksLocked()
}

func (s *Source) addAck(pos []byte, lsn pglogrepl.LSN) {
	s.ackMu.Lock()
	defer s.ackMu.Unlock()
	s.acks = append(s.acks, pendingAck{pos: pos, lsn: lsn})
	s.releaseAcksLocked()
}

func (s *Source) releaseAcksLocked() {
	i := 0
	for ; i < len(s.acks); i++ {
		a := s.acks[i]
		if a.pos != nil && bytes.Compare(a.pos, s.durable) > 0 {
			break
		}
		if uint64(a.lsn) > s.flushLSN.Load() {
			s.flushLSN.Store(uint64(a.lsn))
		}
	}
	s.acks = s.acks[i:]
}

func (s *Source) fail(err error) { s.queue.Fail(err) }

// emit queues one entry for the journal, skipping what the journal has.
func (s *Source) emit(ctx context.Context, e journal.Entry) error {
	if len(s.resume) > 0 && bytes.Compare(e.SourcePosition, s.resume) <= 0 {
		return nil
	}
	e.SourceID = s.cfg.Name
	if err := s.queue.Push(ctx, e); err != nil {
		return err
	}
	s.lastEmitted = e.SourcePosition
	return nil
}

// Close stops streaming and closes the connections. The reader goroutines
// own the connections while they run (pgconn is not safe for concurrent
// use), so they are stopped first: cancelling reaches queries and the
// queue, and an expired read deadline wakes a receive in progress.
func (s *Source) Close() error {
	if s.cancel != nil {
		s.cancel()
	}
	if s.repl != nil {
		_ = s.repl.Conn().SetReadDeadline(time.Now())
	}
	s.wg.Wait()
	s.closeConns()
	return nil
}

func (s *Source) closeConns() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if s.repl != nil {
		s.repl.Close(ctx)
		s.repl = nil
	}
	if s.meta != nil {
		s.meta.Close(ctx)
		s.meta = nil
	}
	if s.hb != nil {
		s.hb.Close(ctx)
		s.hb = nil
	}
}

func (s *Source) heartbeats(ctx context.Context) {
	t := time.NewTicker(s.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := s.hb.Exec(ctx, "SELECT pg_logical_emit_message(false, $1, '')", heartbeatPrefix); err != nil {
			if ctx.Err() == nil {
				s.log.Warn("heartbeat failed", "err", err)
			}
			continue
		}
		var lag *int64
		err := s.hb.QueryRow(ctx, `SELECT (pg_current_wal_lsn() - confirmed_flush_lsn)::bigint FROM pg_replication_slots WHERE slot_name = $1`, s.cfg.Slot).Scan(&lag)
		if err == nil && lag != nil {
			s.lag.Store(*lag)
		}
	}
}

var _ capture.Source = (*Source)(nil)
