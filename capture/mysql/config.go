package mysql

import (
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"time"

	"github.com/cairnlog/cairn/capture"
	driver "github.com/go-sql-driver/mysql"
)

// Config configures one MariaDB source.
type Config struct {
	// Name is the source name: the journal stream and every entry's source_id.
	Name string
	// DSN is a go-sql-driver DSN, user:password@tcp(host:port)/database, for a
	// user with REPLICATION SLAVE, REPLICATION CLIENT and SELECT.
	DSN string
	// ServerID identifies Cairn to the server as a replica; it must differ
	// from the server's and every other replica's (default: derived from Name).
	ServerID uint32
	// Tables lists "database.table" names to capture; empty means every
	// table of the DSN's database.
	Tables []string
	// StartGTID is where a new stream starts: "" for the server's current
	// position (capture from now on), "beginning" for the oldest binlog the
	// server still has, or a GTID list ("0-1-42", or "0-1-42,1-1-7" with one
	// GTID per replication domain, as @@gtid_binlog_pos shows) to start after. A stream that
	// already has entries always resumes from the journal instead.
	StartGTID string
	// Snapshot is "initial" (copy existing rows, consistent with the binlog
	// position the stream starts after) or "never".
	Snapshot string
	// Compatibility is the schema compatibility mode of this source's
	// subjects (BACKWARD, FORWARD, FULL, NONE, or a *_TRANSITIVE; empty:
	// BACKWARD); TableCompatibility overrides it per "database.table".
	// A version that fails its subject's check is still recorded, marked
	// incompatible (docs/formats/avro.md).
	Compatibility      string
	TableCompatibility map[string]string
	// SnapshotChunk is how many rows one snapshot chunk reads.
	SnapshotChunk int
	// HeartbeatInterval asks the server for binlog heartbeats when idle.
	HeartbeatInterval time.Duration
	// MaxBatch and MaxBuffered bound one append and the decoded backlog.
	MaxBatch    int
	MaxBuffered int
	Logger      *slog.Logger
}

// DefaultConfig returns defaults for a source named name.
func DefaultConfig(name, dsn string) Config {
	h := fnv.New32a()
	h.Write([]byte("cairn/" + name))
	return Config{
		Name: name, DSN: dsn, ServerID: 0x40000000 | h.Sum32()&0x3fffffff,
		Snapshot: "never", SnapshotChunk: 10000,
		HeartbeatInterval: 5 * time.Second, MaxBatch: 20000, MaxBuffered: 80000,
	}
}

// Validate reports the first unusable setting, naming the fix.
func (c Config) Validate() error {
	switch {
	case c.Name == "":
		return fmt.Errorf("mysql source: name is empty")
	case strings.TrimSpace(c.DSN) == "":
		return fmt.Errorf("mysql source %s: dsn is empty (set dsn: user:password@tcp(host:3306)/database)", c.Name)
	case c.ServerID == 0:
		return fmt.Errorf("mysql source %s: server_id must not be 0", c.Name)
	case c.Snapshot != "initial" && c.Snapshot != "never":
		return fmt.Errorf("mysql source %s: snapshot %q must be initial or never", c.Name, c.Snapshot)
	case c.SnapshotChunk < 1:
		return fmt.Errorf("mysql source %s: snapshot chunk %d must be positive", c.Name, c.SnapshotChunk)
	case c.HeartbeatInterval < 0:
		return fmt.Errorf("mysql source %s: heartbeat_interval must not be negative", c.Name)
	case c.MaxBatch < 1 || c.MaxBuffered < c.MaxBatch:
		return fmt.Errorf("mysql source %s: max batch %d / max buffered %d", c.Name, c.MaxBatch, c.MaxBuffered)
	}
	if _, err := driver.ParseDSN(c.DSN); err != nil {
		return fmt.Errorf("mysql source %s: dsn: %v (want user:password@tcp(host:3306)/database)", c.Name, err)
	}
	if c.StartGTID != "" && c.StartGTID != "beginning" {
		_, errMaria := parseGTIDState(flavorMariaDB, c.StartGTID)
		_, errMySQL := parseGTIDState(flavorMySQL, c.StartGTID)
		if errMaria != nil && errMySQL != nil {
			return fmt.Errorf("mysql source %s: start_gtid %q is neither a MariaDB GTID list such as 0-1-42,1-1-7 (one domain-server-seq per domain) "+
				"nor a MySQL GTID set such as 3e11fa47-71ca-11e1-9e33-c80aa9429562:1-42; use one, \"beginning\" or empty", c.Name, c.StartGTID)
		}
	}
	if _, err := c.modes(); err != nil {
		return err
	}
	for _, t := range c.Tables {
		if db, tbl, ok := strings.Cut(t, "."); !ok || db == "" || tbl == "" {
			return fmt.Errorf("mysql source %s: table %q is not database.table", c.Name, t)
		}
	}
	return nil
}

// modes parses the compatibility settings.
func (c Config) modes() (capture.SchemaModes, error) {
	return capture.ParseSchemaModes("mysql", c.Name, c.Compatibility, c.TableCompatibility, func(t string) (string, string, error) {
		db, tbl, ok := strings.Cut(t, ".")
		if !ok || db == "" || tbl == "" || strings.Contains(tbl, ".") {
			return "", "", fmt.Errorf("table %q is not database.table", t)
		}
		return db, tbl, nil
	})
}
