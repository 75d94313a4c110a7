package main

// pg-latency: commit-to-durable latency at a steady paced load.
//
//	go run ./loadtest pg-latency [-duration 20s] [-rate 2000] [-rows 5] [-writers 16] [-reference=true] [-sync-commit=true]
//	go run ./loadtest pg-catchup -latency 20s     # the same runs, after the catch-up part
//
// A paced writer commits -rate transactions per second for -duration, each
// one INSERT of -rows rows into orders_live (one autocommit statement, so the
// statement's return is the COMMIT's), spread over -writers connections. A
// 1 ms ticker releases the transactions that are due onto a queue, so the
// schedule does not slow down when the database does; the report says how
// late the writers started them. Transaction number i writes i into the tx
// column of its rows; its commit time is taken on the client as soon as the
// statement returns.
//
// The paced writer runs twice, with the same schedule:
//   - Reference (skip with -reference=false): a bare pgoutput client on its
//     own slot, in this process, stamps each transaction when its Commit
//     message arrives. That is what PostgreSQL's decoding and streaming cost
//     on this machine under this load, with nothing of Cairn's.
//   - Cairn: capture.Run with the PostgreSQL source on a fresh slot
//     (bench_live, publication live_pub) into a fresh Badger journal, in
//     this process. An observer loops on store.Wait; when Wait returns it
//     takes the time, reads up to the head Wait reported, maps each change's
//     xid to the tx number in its after row, and stamps the transaction when
//     its tx_commit entry is among them: the moment the whole transaction was
//     seen durable in the journal. The report splits that span at the
//     entry's recorded_at (set by the store as it writes the group, just
//     before the sync), using the server's commit timestamp (same clock).
//
// The fixture runs the server with synchronous_commit=off. With it, a commit's
// WAL is flushed (and logical decoding reads only flushed WAL) on the WAL
// writer's schedule (wal_writer_delay, 200 ms), which would dominate the
// figure. The writers therefore set synchronous_commit=on in their sessions
// (the PostgreSQL default; fsync stays off): -sync-commit=false measures the
// fixture's setting instead.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/cairnlog/cairn/capture"
	"github.com/cairnlog/cairn/capture/postgres"
	"github.com/cairnlog/cairn/fixtures"
	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/journal/badgerstore"
	"github.com/cairnlog/cairn/replay/history"
)

const (
	liveSlot    = "bench_live"
	liveRefSlot = "bench_live_ref"
	livePub     = "live_pub"
	liveStream  = "pg-latency"
)

const liveDDL = `CREATE TABLE orders_live (
	id          bigint PRIMARY KEY,
	tx          bigint NOT NULL,
	customer_id bigint NOT NULL,
	amount      numeric(12,2) NOT NULL,
	status      text NOT NULL,
	note        text,
	created_at  timestamptz NOT NULL
)`

const liveInsert = `INSERT INTO orders_live (id, tx, customer_id, amount, status, note, created_at)
SELECT $1::bigint * $2::int + g, $1::bigint, ($1::bigint * 31 + g) % 50000,
       ((($1::bigint * $2::int + g) * 7919) % 1000000) / 100.0, 'new',
       'live order ' || $1::bigint || '/' || g, now()
FROM generate_series(0, $2::int - 1) AS g`

// liveTimes holds, per transaction number, Unix nanoseconds: when its writer
// started it and when its COMMIT returned (written by the writers); when the
// observer saw it (0: not yet) and, for Cairn, the server's commit timestamp
// and the journal's recorded_at of its tx_commit entry (written by the
// observer). The slices are read only after both sides have finished.
type liveTimes struct {
	scheduled  time.Time
	interval   time.Duration
	lastCommit int64
	started    []int64
	committed  []int64
	seen       []int64
	pgCommit   []int64
	appended   []int64
}

func newLiveTimes(total, rate int) *liveTimes {
	return &liveTimes{
		interval: time.Second / time.Duration(rate),
		started:  make([]int64, total), committed: make([]int64, total), seen: make([]int64, total),
		pgCommit: make([]int64, total), appended: make([]int64, total),
	}
}

// observer stamps transactions in times as it sees them and counts them in
// observed, until ctx ends.
type observer func(ctx context.Context, times *liveTimes, observed *atomic.Int64) error

func runPGLatency(ctx context.Context, log *slog.Logger, cfg pgBench, pg *fixtures.Postgres, conn *pgx.Conn, dir string, out io.Writer) error {
	for _, q := range []string{liveDDL, "CREATE PUBLICATION " + livePub + " FOR TABLE orders_live"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("setup %q: %w", firstLine(q), err)
		}
	}
	total := int(cfg.Latency.Seconds() * float64(cfg.Rate))
	var ref *liveTimes
	if cfg.LatencyRef {
		var err error
		if ref, err = latencyReference(ctx, cfg, pg, conn, total); err != nil {
			return fmt.Errorf("reference: %w", err)
		}
		log.Info("paced run of the reference done", "transactions", total)
		// The Cairn run reuses the transaction numbers; its slot is created
		// after this, so it never sees these rows or the TRUNCATE.
		if _, err := conn.Exec(ctx, "TRUNCATE orders_live"); err != nil {
			return fmt.Errorf("truncate orders_live: %w", err)
		}
	}
	cairn, err := latencyCairn(ctx, cfg, pg, conn, dir, total)
	if err != nil {
		return err
	}
	log.Info("paced run of cairn done", "transactions", total)

	fmt.Fprintf(out, "commit-to-durable latency, %d tx/s x %d rows paced for %v over %d connections (writers: synchronous_commit=%s), from COMMIT returned to:\n",
		cfg.Rate, cfg.Rows, cfg.Latency, cfg.Writers, onOff(cfg.SyncCommit))
	if ref != nil {
		fmt.Fprintf(out, "  reference: Commit message received by a bare pgoutput client:  %s\n",
			ref.spans(func(i int) int64 { return ref.seen[i] - ref.committed[i] }))
		fmt.Fprintf(out, "    achieved %.0f tx/s (%d transactions); writers started them %s behind schedule\n",
			ref.rate(total), total, ref.spans(ref.lateness))
	}
	fmt.Fprintf(out, "  cairn: tx_commit seen durable in the journal (in-process):      %s   (goal p99 <= 50 ms)\n",
		cairn.spans(func(i int) int64 { return cairn.seen[i] - cairn.committed[i] }))
	fmt.Fprintf(out, "    achieved %.0f tx/s (%d transactions, %d rows); writers started them %s behind schedule\n",
		cairn.rate(total), total, total*cfg.Rows, cairn.spans(cairn.lateness))
	fmt.Fprintf(out, "    split at the entry's recorded_at: server commit timestamp -> recorded_at (WAL flush, decoding, streaming, Cairn's queue): %s\n",
		cairn.spans(func(i int) int64 { return cairn.appended[i] - cairn.pgCommit[i] }))
	fmt.Fprintf(out, "                                      recorded_at -> seen durable (Badger write and sync, store.Wait):                        %s\n",
		cairn.spans(func(i int) int64 { return cairn.seen[i] - cairn.appended[i] }))
	return nil
}

// latencyCairn runs the paced writer with Cairn capturing a fresh slot into a
// fresh journal, and stamps each transaction when its tx_commit is durable.
func latencyCairn(ctx context.Context, cfg pgBench, pg *fixtures.Postgres, conn *pgx.Conn, dir string, total int) (*liveTimes, error) {
	if _, err := conn.Exec(ctx, "SELECT pg_create_logical_replication_slot($1, 'pgoutput')", liveSlot); err != nil {
		return nil, fmt.Errorf("create slot %s: %w", liveSlot, err)
	}
	store, err := badgerstore.Open(badgerstore.DefaultConfig(filepath.Join(dir, "latency")))
	if err != nil {
		return nil, err
	}
	defer store.Close()
	pcfg := postgres.DefaultConfig(liveStream, pg.DSN())
	pcfg.Slot, pcfg.Publication = liveSlot, livePub
	pcfg.HeartbeatInterval = cfg.Heartbeat
	src, err := postgres.New(pcfg)
	if err != nil {
		return nil, err
	}
	cctx, cancelCapture := context.WithCancel(ctx)
	defer cancelCapture()
	captured := make(chan error, 1)
	go func() { captured <- capture.Run(cctx, capture.DefaultConfig(liveStream), store, src) }()
	if err := waitStreaming(ctx, conn, captured); err != nil {
		cancelCapture()
		<-captured
		return nil, err
	}
	stopProfile, err := startProfile(profileIf(!cfg.Catchup, cfg.CPUProfile))
	if err != nil {
		cancelCapture()
		<-captured
		return nil, err
	}
	times, perr := pacedPhase(ctx, cfg, pg, total, func(ctx context.Context, times *liveTimes, observed *atomic.Int64) error {
		return observeDurable(ctx, store, times, observed)
	})
	stopProfile()
	cancelCapture()
	if err := <-captured; err != nil {
		return nil, errors.Join(perr, fmt.Errorf("capture ended with %w", err))
	}
	return times, perr
}

// latencyReference runs the paced writer with a bare pgoutput client on its
// own slot, which only notes when each transaction's Commit message arrives:
// the floor that PostgreSQL's own decoding and streaming set.
func latencyReference(ctx context.Context, cfg pgBench, pg *fixtures.Postgres, conn *pgx.Conn, total int) (*liveTimes, error) {
	if _, err := conn.Exec(ctx, "SELECT pg_create_logical_replication_slot($1, 'pgoutput')", liveRefSlot); err != nil {
		return nil, fmt.Errorf("create slot %s: %w", liveRefSlot, err)
	}
	repl, err := pgconn.Connect(ctx, pg.ReplicationDSN())
	if err != nil {
		return nil, fmt.Errorf("replication connection: %w", err)
	}
	defer repl.Close(context.Background())
	err = pglogrepl.StartReplication(ctx, repl, liveRefSlot, 0, pglogrepl.StartReplicationOptions{
		PluginArgs: []string{"proto_version '1'", "publication_names '" + livePub + "'"},
	})
	if err != nil {
		return nil, fmt.Errorf("start replication on %s: %w", liveRefSlot, err)
	}
	times, err := pacedPhase(ctx, cfg, pg, total, func(ctx context.Context, times *liveTimes, observed *atomic.Int64) error {
		return receiveCommits(ctx, repl, times, observed)
	})
	if err != nil {
		return nil, err
	}
	repl.Close(context.Background()) // the walsender must end before its slot can be dropped
	if err := waitFor(ctx, func() (bool, error) {
		_, active, err := slotState(ctx, conn, liveRefSlot)
		return !active, err
	}); err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "SELECT pg_drop_replication_slot($1)", liveRefSlot); err != nil {
		return nil, fmt.Errorf("drop slot %s: %w", liveRefSlot, err)
	}
	return times, nil
}

// pacedPhase runs observe beside the paced writer until every transaction
// was observed.
func pacedPhase(ctx context.Context, cfg pgBench, pg *fixtures.Postgres, total int, observe observer) (*liveTimes, error) {
	times := newLiveTimes(total, cfg.Rate)
	var observed atomic.Int64
	octx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	var oerr error
	go func() {
		defer close(done)
		oerr = observe(octx, times, &observed)
	}()
	werr := pacedWrites(ctx, cfg, pg, times, total)
	if werr == nil {
		werr = waitObserved(ctx, &observed, total, done, 60*time.Second)
	}
	cancel()
	<-done
	if oerr != nil && !errors.Is(oerr, context.Canceled) {
		return nil, fmt.Errorf("observer: %w", oerr)
	}
	if werr != nil {
		return nil, werr
	}
	return times, nil
}

// spans sorts f(i) over all transactions and formats its percentiles.
func (t *liveTimes) spans(f func(i int) int64) string {
	xs := make([]time.Duration, len(t.started))
	for i := range xs {
		xs[i] = time.Duration(f(i))
	}
	slices.Sort(xs)
	return fmt.Sprintf("p50 %s  p99 %s  max %s", ms(percentile(xs, 0.50)), ms(percentile(xs, 0.99)), ms(xs[len(xs)-1]))
}

// lateness is how long after its scheduled time transaction i started.
func (t *liveTimes) lateness(i int) int64 {
	return t.started[i] - t.scheduled.Add(time.Duration(i)*t.interval).UnixNano()
}

// rate is the achieved transactions per second, first scheduled to last committed.
func (t *liveTimes) rate(total int) float64 {
	return perSecond(total, time.Duration(t.lastCommit-t.scheduled.UnixNano()))
}

// waitStreaming waits until Cairn's walsender is active on the live slot, so
// that no paced transaction waits for the capture to connect.
func waitStreaming(ctx context.Context, conn *pgx.Conn, captured <-chan error) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, active, err := slotState(ctx, conn, liveSlot)
		if err != nil {
			return err
		}
		if active {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("slot %s not streaming after 30s", liveSlot)
		}
		select {
		case err := <-captured:
			return fmt.Errorf("capture stopped before streaming: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// pacedWrites commits total transactions at cfg.Rate per second over
// cfg.Writers connections and returns when the last COMMIT returned.
func pacedWrites(ctx context.Context, cfg pgBench, pg *fixtures.Postgres, times *liveTimes, total int) error {
	cc, err := pgx.ParseConfig(pg.DSN())
	if err != nil {
		return err
	}
	cc.RuntimeParams["synchronous_commit"] = onOff(cfg.SyncCommit)
	conns := make([]*pgx.Conn, cfg.Writers)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close(context.Background())
			}
		}
	}()
	for i := range conns {
		if conns[i], err = pgx.ConnectConfig(ctx, cc); err != nil {
			return fmt.Errorf("connect writer %d: %w", i, err)
		}
		// Prepare the statement now, not on the clock.
		if _, err := conns[i].Prepare(ctx, "live_insert", liveInsert); err != nil {
			return fmt.Errorf("prepare on writer %d: %w", i, err)
		}
	}

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	queue := make(chan int, total)
	var firstErr error
	var errOnce sync.Once
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	var wg sync.WaitGroup
	var lastCommit atomic.Int64
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for tx := range queue {
				if wctx.Err() != nil {
					return
				}
				times.started[tx] = time.Now().UnixNano()
				tag, err := c.Exec(wctx, "live_insert", tx, cfg.Rows)
				now := time.Now().UnixNano()
				if err != nil {
					fail(fmt.Errorf("transaction %d: %w", tx, err))
					return
				}
				if tag.RowsAffected() != int64(cfg.Rows) {
					fail(fmt.Errorf("transaction %d inserted %d rows, want %d", tx, tag.RowsAffected(), cfg.Rows))
					return
				}
				times.committed[tx] = now
				for {
					last := lastCommit.Load()
					if now <= last || lastCommit.CompareAndSwap(last, now) {
						break
					}
				}
			}
		}()
	}

	// The pacer: every tick, release the transactions whose time has come.
	tick := time.NewTicker(time.Millisecond)
	times.scheduled = time.Now()
	next := 0
	for next < total && wctx.Err() == nil {
		<-tick.C
		due := min(total, int(time.Since(times.scheduled)/times.interval)+1)
		for ; next < due; next++ {
			queue <- next
		}
	}
	tick.Stop()
	close(queue)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	times.lastCommit = lastCommit.Load()
	return nil
}

// observeDurable stamps each transaction when its tx_commit entry is durable.
func observeDurable(ctx context.Context, store journal.Store, times *liveTimes, observed *atomic.Int64) error {
	txOf := map[string]int64{} // xid -> tx number, for transactions still open
	hist := history.New(store, liveStream)
	var seen uint64
	for {
		head, err := store.Wait(ctx, liveStream, seen)
		if err != nil {
			return err
		}
		now := time.Now().UnixNano()
		for seen < head.Seq {
			recs, err := store.Read(ctx, liveStream, seen+1, int(min(head.Seq-seen, 5000)))
			if err != nil {
				return err
			}
			if len(recs) == 0 {
				return fmt.Errorf("read at %d returned nothing below head %d", seen+1, head.Seq)
			}
			for i := range recs {
				rr, err := hist.Render(ctx, &recs[i])
				if err != nil {
					return err
				}
				r := &rr
				switch r.Kind {
				case journal.KindChange:
					var row struct {
						Tx *int64 `json:"tx"`
					}
					if err := json.Unmarshal(r.After, &row); err != nil || row.Tx == nil {
						return fmt.Errorf("seq %d: after row %s has no tx number (%v)", r.Seq, r.After, err)
					}
					txOf[r.TxID] = *row.Tx
				case journal.KindTxCommit:
					tx, ok := txOf[r.TxID]
					if !ok {
						return fmt.Errorf("seq %d: tx_commit of xid %s without changes", r.Seq, r.TxID)
					}
					delete(txOf, r.TxID)
					if tx < 0 || tx >= int64(len(times.seen)) {
						return fmt.Errorf("seq %d: tx number %d out of range", r.Seq, tx)
					}
					times.pgCommit[tx], times.appended[tx], times.seen[tx] = r.CommitTime.UnixNano(), r.RecordedAt.UnixNano(), now
					observed.Add(1)
				}
			}
			seen += uint64(len(recs))
		}
	}
}

// waitObserved waits until every transaction was seen durable.
func waitObserved(ctx context.Context, observed *atomic.Int64, total int, observerDone <-chan struct{}, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for observed.Load() < int64(total) {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d transactions observed %v after the last commit", observed.Load(), total, limit)
		}
		select {
		case <-observerDone:
			return fmt.Errorf("observer stopped after %d of %d transactions", observed.Load(), total)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

// receiveCommits reads the reference's replication stream, maps each
// transaction's inserts to its tx number, and stamps it when its Commit
// message arrives. It confirms what it has seen once a second.
func receiveCommits(ctx context.Context, repl *pgconn.PgConn, times *liveTimes, observed *atomic.Int64) error {
	txCol := map[uint32]int{} // relation id -> index of the tx column
	cur := int64(-1)
	var confirmed pglogrepl.LSN
	nextStatus := time.Now().Add(time.Second)
	for {
		if time.Now().After(nextStatus) {
			if err := pglogrepl.SendStandbyStatusUpdate(ctx, repl, pglogrepl.StandbyStatusUpdate{WALWritePosition: confirmed}); err != nil {
				return err
			}
			nextStatus = time.Now().Add(time.Second)
		}
		rctx, cancel := context.WithDeadline(ctx, nextStatus)
		msg, err := repl.ReceiveMessage(rctx)
		cancel()
		now := time.Now().UnixNano()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if pgconn.Timeout(err) {
				continue
			}
			return err
		}
		cd, ok := msg.(*pgproto3.CopyData)
		if !ok {
			return fmt.Errorf("unexpected %T", msg)
		}
		if len(cd.Data) == 0 || cd.Data[0] != pglogrepl.XLogDataByteID {
			continue // keepalives: the status goes out once a second anyway
		}
		x, err := pglogrepl.ParseXLogData(cd.Data[1:])
		if err != nil {
			return err
		}
		m, err := pglogrepl.Parse(x.WALData)
		if err != nil {
			return err
		}
		switch m := m.(type) {
		case *pglogrepl.RelationMessage:
			for i, c := range m.Columns {
				if c.Name == "tx" {
					txCol[m.RelationID] = i
				}
			}
		case *pglogrepl.InsertMessage:
			i, ok := txCol[m.RelationID]
			if !ok || i >= len(m.Tuple.Columns) {
				return fmt.Errorf("insert into relation %d without a tx column", m.RelationID)
			}
			if cur, err = strconv.ParseInt(string(m.Tuple.Columns[i].Data), 10, 64); err != nil {
				return fmt.Errorf("tx column: %w", err)
			}
		case *pglogrepl.CommitMessage:
			if cur < 0 || cur >= int64(len(times.seen)) {
				return fmt.Errorf("commit at %s of tx number %d", m.CommitLSN, cur)
			}
			times.seen[cur] = now
			observed.Add(1)
			cur, confirmed = -1, m.TransactionEndLSN
		}
	}
}

// waitFor polls cond every 20 ms for up to 30 s.
func waitFor(ctx context.Context, cond func() (bool, error)) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return errors.New("timed out after 30s")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// percentile is the nearest-rank percentile of sorted xs.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func profileIf(ok bool, path string) string {
	if ok {
		return path
	}
	return ""
}
