package mysql

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	driver "github.com/go-sql-driver/mysql"

	"github.com/cairnlog/cairn/capture"
	"github.com/cairnlog/cairn/journal"
)

// Source streams a MariaDB server's committed row changes as journal
// entries. It implements capture.Source.
type Source struct {
	cfg Config
	log *slog.Logger
	dsn *driver.Config

	cancel context.CancelFunc
	wg     sync.WaitGroup
	syncer *replication.BinlogSyncer
	db     *sql.DB // pre-flight and snapshot connections; closed by Close
	queue  *capture.Queue
	resume []byte

	// reader state
	tables       map[string]bool // database.table captured (nil: the DSN's database)
	colsFor      map[*replication.TableMapEvent]tableShape
	infoSchema   map[string]tableShape // shapes read from information_schema, by database.table
	schemas      *capture.SchemaRecorder
	derived      map[string]*capture.TableSchema // by shapeSignature
	incompatible atomic.Int64

	flavor     string    // flavorMariaDB or flavorMySQL, from the server's version at Start
	resumeText string    // the GTID state the journal resumes after (Start)
	state      gtidState // the binlog's GTID state after the last transaction seen
	stateText  string    // state.String()
	tx         txState
}

type txState struct {
	open       bool
	gtid       txGTID
	ordinal    uint64 // gtidState ordinal of the state including this transaction
	text       string
	commitTime time.Time
	index      uint64
	begun      bool // tx_begin emitted (it waits for the first captured change)
	standalone bool // a MariaDB DDL event group: no BEGIN/XID around it
	sawBegin   bool // a BEGIN query opened the transaction
	sawQuery   bool // a query event came in this group
}

// New returns a source; Start connects it.
func New(cfg Config) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dsn, _ := driver.ParseDSN(cfg.DSN)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Source{cfg: cfg, dsn: dsn, log: log.With("source", cfg.Name)}, nil
}

// Start checks the server, then streams from the GTID after the journal's
// last complete transaction (or from now, for a new stream).
func (s *Source) Start(ctx context.Context, resume capture.Resume) (err error) {
	defer func() {
		if err != nil && s.db != nil { // a failed start leaves no pool behind
			s.db.Close()
			s.db = nil
		}
	}()
	s.resume = append([]byte(nil), resume.Position...)
	s.queue = capture.NewQueue(s.cfg.MaxBatch, s.cfg.MaxBuffered)
	s.colsFor, s.infoSchema, s.tx = map[*replication.TableMapEvent]tableShape{}, map[string]tableShape{}, txState{}
	s.derived = map[string]*capture.TableSchema{}
	modes, err := s.cfg.modes()
	if err != nil {
		return capture.Permanent(err)
	}
	if s.schemas, err = capture.NewSchemaRecorder(modes, resume); err != nil {
		return err
	}
	db, err := sql.Open("mysql", s.cfg.DSN)
	if err != nil {
		return capture.Permanent(fmt.Errorf("dsn: %w", err))
	}
	s.db = db
	current, err := s.preflight(ctx, db)
	if err != nil {
		return err
	}
	start := current // a new stream starts now, unless configured otherwise
	switch s.cfg.StartGTID {
	case "":
	case "beginning":
		start = ""
	default:
		start = s.cfg.StartGTID
	}
	s.resumeText = ""
	if len(s.resume) > 0 {
		if start, err = s.resumeState(ctx, resume); err != nil {
			return err
		}
		s.resumeText = start
	}
	snap, err := s.planSnapshot(ctx, resume)
	if err != nil {
		return err
	}
	if snap != nil && len(s.resume) == 0 {
		start = snap.gtid // stream exactly after the snapshot's point
	}
	if s.state, err = parseGTIDState(s.flavor, start); err != nil {
		snap.close()
		return capture.Permanent(fmt.Errorf("resume GTID %q (%s): %w", start, s.flavor, err))
	}
	s.stateText = s.state.String()
	if len(s.resume) > 0 || s.cfg.StartGTID != "" && s.cfg.StartGTID != "beginning" {
		var last time.Time
		if resume.Last != nil {
			last = resume.Last.CommitTime
		}
		if err := s.checkRetention(ctx, db, s.state, last); err != nil {
			snap.close()
			return err
		}
	}
	gset, err := s.state.syncSet()
	if err != nil {
		snap.close()
		return capture.Permanent(fmt.Errorf("resume GTID %q: %w", start, err))
	}
	host, port, err := net.SplitHostPort(s.dsn.Addr)
	if err != nil {
		snap.close()
		return capture.Permanent(fmt.Errorf("dsn address %q: %w", s.dsn.Addr, err))
	}
	p, _ := strconv.Atoi(port)
	s.syncer = replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID: s.cfg.ServerID, Flavor: s.flavor,
		Host: host, Port: uint16(p), User: s.dsn.User, Password: s.dsn.Passwd,
		ParseTime: true, UseDecimal: false, RenderJSONAsMySQLText: true, TimestampStringLocation: time.UTC,
		HeartbeatPeriod: s.cfg.HeartbeatInterval, DisableRetrySync: true,
		Logger: slog.New(slog.DiscardHandler),
	})
	rctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if snap != nil {
			err := s.runSnapshot(rctx, snap)
			snap.close()
			if err != nil {
				s.queue.Fail(err)
				return
			}
		}
		// The binlog stream starts after the snapshot, so a long copy does
		// not leave a dump connection waiting (the server would drop it).
		streamer, err := s.syncer.StartSyncGTID(gset)
		if err != nil {
			s.queue.Fail(s.classify(fmt.Errorf("start binlog dump after GTID %q: %w", start, err), start))
			return
		}
		s.log.Info("streaming binlog", "after_gtid", start)
		for {
			ev, err := streamer.GetEvent(rctx)
			if err != nil {
				if rctx.Err() == nil {
					s.queue.Fail(s.classify(fmt.Errorf("binlog stream: %w", err), s.stateText))
				}
				return
			}
			if err := s.handle(rctx, ev); err != nil {
				s.queue.Fail(err)
				return
			}
		}
	}()
	return nil
}

// resumeState returns the GTID state text to resume after: from the
// journal's last position when it carries one (a frame entry), else from
// the frame it belongs to, read back from the journal: the tx_begin of the
// transaction it is in, or the first entry of the initial snapshot.
func (s *Source) resumeState(ctx context.Context, resume capture.Resume) (string, error) {
	text, ok, err := resumeGTID(resume.Position)
	if err != nil {
		return "", capture.Permanent(fmt.Errorf("the journal's last position is not a MySQL/MariaDB position: %w", err))
	}
	if ok {
		return text, nil
	}
	if resume.Read == nil || resume.Last == nil {
		return "", capture.Permanent(fmt.Errorf("the journal's last position has no resume GTID and the journal cannot be read back"))
	}
	last := resume.Last
	const page = 256 // records per read: a read-back holds one page of rows at a time
	if last.Kind == journal.KindSnapshotRead || last.Kind == journal.KindSchema && last.TxID == "" {
		// The snapshot's first entry is the stream's first captured one
		// (app events appended through the API may come before it).
		for from := uint64(1); from <= last.Seq; {
			recs, err := resume.Read(ctx, from, page)
			if err != nil || len(recs) == 0 {
				return "", fmt.Errorf("read the snapshot's first entry for its GTID: %v", err)
			}
			for i := range recs {
				if len(recs[i].SourcePosition) == 0 {
					continue
				}
				if text, ok, err := resumeGTID(recs[i].SourcePosition); err == nil && ok {
					return text, nil
				}
				return "", capture.Permanent(fmt.Errorf("%w: the snapshot's first entry (seq %d) carries no GTID", journal.ErrCorrupt, recs[i].Seq))
			}
			from = recs[len(recs)-1].Seq + 1
		}
		return "", capture.Permanent(fmt.Errorf("%w: no captured entry before seq %d", journal.ErrCorrupt, last.Seq))
	}
	for hi := last.Seq; hi >= 1; {
		from := uint64(1)
		if hi > page {
			from = hi - page + 1
		}
		recs, err := resume.Read(ctx, from, int(hi-from+1))
		if err != nil {
			return "", fmt.Errorf("read back to the transaction's tx_begin: %w", err)
		}
		for i := len(recs) - 1; i >= 0; i-- {
			if text, ok, err := resumeGTID(recs[i].SourcePosition); err == nil && ok {
				return text, nil
			}
		}
		hi = from - 1
	}
	return "", capture.Permanent(fmt.Errorf("%w: no entry before seq %d carries a resume GTID", journal.ErrCorrupt, last.Seq))
}

// classify turns the server's "binlog is gone" answer into a permanent
// error that names the missing GTID range.
func (s *Source) classify(err error, after string) error {
	var me *gomysql.MyError
	if errors.As(err, &me) && me.Code == gomysql.ER_MASTER_FATAL_ERROR_READING_BINLOG ||
		strings.Contains(err.Error(), "1236") {
		return capture.Permanent(fmt.Errorf("%w: the server no longer has the binlog events after GTID %q that the journal needs next (%v). "+
			"The changes in between are lost to Cairn: keep binlogs longer (binlog_expire_logs_seconds) and start a new stream", ErrBinlogPurged, after, err))
	}
	return err
}

// preflight checks the server settings row capture depends on and returns
// the current GTID position.
func (s *Source) preflight(ctx context.Context, db *sql.DB) (string, error) {
	var version, format, image, metadata, gtidPos string
	var logBin, serverID int64
	if err := db.QueryRowContext(ctx, `SELECT @@version`).Scan(&version); err != nil {
		return "", fmt.Errorf("read server settings: %w", err)
	}
	// MariaDB names its flavour in the version; a MySQL server does not.
	s.flavor = flavorMySQL
	posQuery, gtidMode := `@@gtid_executed`, "ON"
	if strings.Contains(strings.ToLower(version), "mariadb") {
		s.flavor, posQuery = flavorMariaDB, `@@gtid_binlog_pos`
	} else if err := db.QueryRowContext(ctx, `SELECT @@gtid_mode`).Scan(&gtidMode); err != nil {
		return "", fmt.Errorf("read server settings: @@gtid_mode: %w", err)
	}
	err := db.QueryRowContext(ctx, `SELECT @@log_bin, @@binlog_format, @@binlog_row_image, @@binlog_row_metadata, @@server_id, `+posQuery).
		Scan(&logBin, &format, &image, &metadata, &serverID, &gtidPos)
	if err != nil {
		return "", fmt.Errorf("read server settings: %w", err)
	}
	if s.flavor == flavorMySQL && !strings.EqualFold(gtidMode, "ON") {
		return "", capture.Permanent(fmt.Errorf("%w: gtid_mode is %s on MySQL %s: Cairn positions are GTIDs; set gtid_mode=ON and enforce_gtid_consistency=ON", ErrServerSettings, gtidMode, version))
	}
	if s.flavor == flavorMySQL {
		// PARTIAL_JSON logs JSON updates as diffs, not whole documents:
		// the after image would not be the row.
		var opts string
		if err := db.QueryRowContext(ctx, `SELECT @@binlog_row_value_options`).Scan(&opts); err == nil && strings.Contains(strings.ToUpper(opts), "PARTIAL_JSON") {
			return "", capture.Permanent(fmt.Errorf("%w: binlog_row_value_options is %s: JSON updates would be logged as diffs, not rows; set binlog_row_value_options=''", ErrServerSettings, opts))
		}
	}
	for _, c := range []struct {
		ok  bool
		fix string
	}{
		{logBin == 1, "log_bin is off: start the server with --log-bin"},
		{strings.EqualFold(format, "ROW"), "binlog_format is " + format + ": set binlog_format=ROW"},
		{strings.EqualFold(image, "FULL"), "binlog_row_image is " + image + ": set binlog_row_image=FULL"},
		{uint32(serverID) != s.cfg.ServerID, fmt.Sprintf("server_id %d is the server's own: give the source another server_id", serverID)},
	} {
		if !c.ok {
			return "", capture.Permanent(fmt.Errorf("%w: %s", ErrServerSettings, c.fix))
		}
	}
	var strict int64 // MariaDB only: MySQL never binlogs a GTID twice
	if s.flavor == flavorMariaDB && db.QueryRowContext(ctx, `SELECT @@gtid_strict_mode`).Scan(&strict) == nil && strict == 0 {
		s.log.Warn("gtid_strict_mode is OFF: a GTID whose sequence number goes back within its domain stops capture (positions must rise). " +
			"Set gtid_strict_mode=ON so the server refuses such transactions instead")
	}
	if !strings.EqualFold(metadata, "FULL") {
		s.log.Warn("binlog_row_metadata is not FULL: column names come from information_schema, read again after each DDL; "+
			"catching up across a shape change it did not see fails with an error. Set binlog_row_metadata=FULL to avoid that", "binlog_row_metadata", metadata)
	}
	if len(s.cfg.Tables) > 0 {
		s.tables = map[string]bool{}
		for _, t := range s.cfg.Tables {
			dbName, tbl, _ := strings.Cut(t, ".")
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?`, dbName, tbl).Scan(&n); err != nil {
				return "", fmt.Errorf("look up table %s: %w", t, err)
			}
			if n == 0 {
				return "", capture.Permanent(fmt.Errorf("%w: %s (check the tables list of source %s; names are database.table)", ErrUnknownTable, t, s.cfg.Name))
			}
			s.tables[t] = true
		}
	}
	return gtidPos, nil
}

// Next returns the oldest batch of decoded entries, waiting for one.
func (s *Source) Next(ctx context.Context) ([]journal.Entry, error) { return s.queue.Next(ctx) }

// Durable is a no-op: a MariaDB primary keeps no per-replica state to
// acknowledge; the journal's last position is where the next start resumes.
func (s *Source) Durable([]byte) {}

// Close stops the binlog stream.
func (s *Source) Close() error {
	if s.cancel != nil {
		s.cancel()
	}
	if s.syncer != nil {
		s.syncer.Close()
	}
	s.wg.Wait()
	if s.db != nil {
		s.db.Close()
		s.db = nil
	}
	return nil
}

func (s *Source) emit(ctx context.Context, e journal.Entry) error {
	if len(s.resume) > 0 && bytes.Compare(e.SourcePosition, s.resume) <= 0 {
		return nil
	}
	e.SourceID = s.cfg.Name
	return s.queue.Push(ctx, e)
}

var _ capture.Source = (*Source)(nil)
