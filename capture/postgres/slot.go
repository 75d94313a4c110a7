package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cairnlog/cairn/capture"
)

// sessionSettings pin every text output that depends on session state, so
// the same WAL always decodes to the same bytes.
var sessionSettings = map[string]string{
	"DateStyle":          "ISO, MDY",
	"TimeZone":           "UTC",
	"IntervalStyle":      "postgres",
	"extra_float_digits": "1",
	"bytea_output":       "hex",
	"application_name":   "cairn",
}

func connConfig(dsn string, replication bool) (*pgconn.Config, error) {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return nil, capture.Permanent(fmt.Errorf("parse dsn: %w", err))
	}
	for k, v := range sessionSettings {
		cfg.RuntimeParams[k] = v
	}
	if replication {
		cfg.RuntimeParams["replication"] = "database"
	}
	return cfg, nil
}

func connectSQL(ctx context.Context, dsn string) (*pgx.Conn, error) {
	pc, err := connConfig(dsn, false)
	if err != nil {
		return nil, err
	}
	cc, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, capture.Permanent(fmt.Errorf("parse dsn: %w", err))
	}
	cc.Config = *pc
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return conn, nil
}

func connectReplication(ctx context.Context, dsn string) (*pgconn.PgConn, error) {
	cfg, err := connConfig(dsn, true)
	if err != nil {
		return nil, err
	}
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open replication connection: %w", err)
	}
	return conn, nil
}

// preflight checks what must hold before streaming, with errors that name the fix.
func preflight(ctx context.Context, conn *pgx.Conn, cfg Config) error {
	var walLevel string
	if err := conn.QueryRow(ctx, "SHOW wal_level").Scan(&walLevel); err != nil {
		return fmt.Errorf("read wal_level: %w", err)
	}
	if walLevel != "logical" {
		return capture.Permanent(fmt.Errorf("%w (it is %q): set wal_level = logical in postgresql.conf and restart PostgreSQL", ErrWALLevel, walLevel))
	}
	var user string
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT current_user, rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&user, &ok); err != nil {
		return fmt.Errorf("read role attributes: %w", err)
	}
	if !ok {
		return capture.Permanent(fmt.Errorf("%w: run ALTER ROLE %s WITH REPLICATION (as a superuser), or connect as a role that has it", ErrPrivilege, pgx.Identifier{user}.Sanitize()))
	}
	for _, t := range cfg.Tables {
		schema, name, _ := splitTable(t)
		var exists bool
		if err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", pgx.Identifier{schema, name}.Sanitize()).Scan(&exists); err != nil {
			return fmt.Errorf("look up table %s: %w", t, err)
		}
		if !exists {
			return capture.Permanent(fmt.Errorf("%w: %s (check the tables list of source %s; names are schema.table)", ErrUnknownTable, t, cfg.Name))
		}
	}
	return nil
}

// ensurePublication creates the publication when absent.
func ensurePublication(ctx context.Context, conn *pgx.Conn, cfg Config) error {
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)", cfg.Publication).Scan(&exists); err != nil {
		return fmt.Errorf("look up publication %s: %w", cfg.Publication, err)
	}
	if exists {
		return nil
	}
	sql := "CREATE PUBLICATION " + pgx.Identifier{cfg.Publication}.Sanitize()
	if len(cfg.Tables) == 0 {
		sql += " FOR ALL TABLES"
	} else {
		var names []string
		for _, t := range cfg.Tables {
			schema, name, _ := splitTable(t)
			names = append(names, pgx.Identifier{schema, name}.Sanitize())
		}
		sql += " FOR TABLE " + strings.Join(names, ", ")
	}
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("create publication %s: %w", cfg.Publication, err)
	}
	return nil
}

type slotInfo struct {
	exists         bool
	plugin         string
	database       string
	walStatus      string
	confirmedFlush pglogrepl.LSN
}

func readSlot(ctx context.Context, conn *pgx.Conn, slot string) (slotInfo, error) {
	var s slotInfo
	var plugin, db, walStatus, confirmed *string
	err := conn.QueryRow(ctx, `SELECT plugin, database, wal_status, confirmed_flush_lsn::text
		FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&plugin, &db, &walStatus, &confirmed)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("look up slot %s: %w", slot, err)
	}
	s.exists = true
	if plugin != nil {
		s.plugin = *plugin
	}
	if db != nil {
		s.database = *db
	}
	if walStatus != nil {
		s.walStatus = *walStatus
	}
	if confirmed != nil {
		if s.confirmedFlush, err = pglogrepl.ParseLSN(*confirmed); err != nil {
			return s, fmt.Errorf("slot %s confirmed_flush_lsn %q: %w", slot, *confirmed, err)
		}
	}
	return s, nil
}

// checkSlot fails fast on a slot that cannot serve this source.
func checkSlot(ctx context.Context, conn *pgx.Conn, cfg Config, s slotInfo) error {
	if s.walStatus == "lost" {
		return capture.Permanent(fmt.Errorf("%w: slot %s has wal_status=lost, so PostgreSQL removed WAL it still needed and changes are gone. "+
			"Drop the slot (SELECT pg_drop_replication_slot('%s')), then start a new stream with snapshot: initial", ErrSlotLost, cfg.Slot, cfg.Slot))
	}
	if s.plugin != "pgoutput" {
		return capture.Permanent(fmt.Errorf("%w: slot %s uses plugin %q; Cairn needs pgoutput (choose another slot name)", ErrSlotMismatch, cfg.Slot, s.plugin))
	}
	var db string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		return fmt.Errorf("read current database: %w", err)
	}
	if s.database != db {
		return capture.Permanent(fmt.Errorf("%w: slot %s belongs to database %s but the dsn connects to %s", ErrSlotMismatch, cfg.Slot, s.database, db))
	}
	return nil
}
