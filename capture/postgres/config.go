package postgres

import (
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/cairnlog/cairn/capture"
)

// Config configures one PostgreSQL source.
type Config struct {
	// Name is the source name; it is also the journal stream and the
	// source_id of every entry.
	Name string
	// DSN is a libpq connection string or URL for a role with REPLICATION
	// (or superuser) on the database to capture.
	DSN string
	// Slot and Publication name the logical replication slot and the
	// publication; both are created when absent and reused when present.
	Slot        string
	Publication string
	// Tables lists "schema.table" names to publish when Cairn creates the
	// publication; empty means all tables.
	Tables []string
	// Snapshot is "initial" (copy existing rows first) or "never".
	Snapshot string
	// Compatibility is the schema compatibility mode of this source's
	// subjects (BACKWARD, FORWARD, FULL, NONE, or a *_TRANSITIVE; empty:
	// BACKWARD); TableCompatibility overrides it per "schema.table".
	// A version that fails its subject's check is still recorded, marked
	// incompatible (docs/formats/avro.md).
	Compatibility      string
	TableCompatibility map[string]string
	// SnapshotChunk is how many rows one snapshot chunk reads.
	SnapshotChunk int
	// HeartbeatInterval is how often Cairn writes a heartbeat message into
	// the WAL so the slot can advance even when captured tables are idle.
	HeartbeatInterval time.Duration
	// StatusInterval bounds the time between standby status updates.
	StatusInterval time.Duration
	// MaxBatch bounds the entries handed to the journal in one append.
	MaxBatch int
	// MaxBuffered bounds the entries decoded but not yet appended; the
	// replication stream pauses (TCP backpressure) when it is full.
	MaxBuffered int
	Logger      *slog.Logger
}

// DefaultConfig returns defaults for a source named name.
func DefaultConfig(name, dsn string) Config {
	return Config{
		Name: name, DSN: dsn,
		Slot: "cairn_" + sanitize(name), Publication: "cairn_" + sanitize(name),
		Snapshot: "never", SnapshotChunk: 10000,
		HeartbeatInterval: 10 * time.Second, StatusInterval: 10 * time.Second,
		MaxBatch: 5000, MaxBuffered: 20000,
	}
}

var identRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Validate reports the first unusable setting, naming the fix.
func (c Config) Validate() error {
	switch {
	case c.Name == "":
		return fmt.Errorf("postgres source: name is empty")
	case strings.TrimSpace(c.DSN) == "":
		return fmt.Errorf("postgres source %s: dsn is empty (set dsn: postgres://user@host:5432/db)", c.Name)
	case !identRE.MatchString(c.Slot):
		return fmt.Errorf("postgres source %s: slot %q must be 1-63 lowercase letters, digits or '_' (PostgreSQL's rule for slot names)", c.Name, c.Slot)
	case !identRE.MatchString(c.Publication):
		return fmt.Errorf("postgres source %s: publication %q must be 1-63 lowercase letters, digits or '_'", c.Name, c.Publication)
	case c.Snapshot != "initial" && c.Snapshot != "never":
		return fmt.Errorf("postgres source %s: snapshot %q must be initial or never", c.Name, c.Snapshot)
	case c.SnapshotChunk < 1:
		return fmt.Errorf("postgres source %s: snapshot chunk %d must be positive", c.Name, c.SnapshotChunk)
	case c.HeartbeatInterval < 0:
		return fmt.Errorf("postgres source %s: heartbeat_interval must not be negative (0 turns heartbeats off)", c.Name)
	case c.StatusInterval <= 0:
		return fmt.Errorf("postgres source %s: status interval must be positive", c.Name)
	case c.MaxBatch < 1 || c.MaxBuffered < c.MaxBatch:
		return fmt.Errorf("postgres source %s: max batch %d / max buffered %d", c.Name, c.MaxBatch, c.MaxBuffered)
	}
	for _, t := range c.Tables {
		if _, _, err := splitTable(t); err != nil {
			return fmt.Errorf("postgres source %s: %w", c.Name, err)
		}
	}
	if _, err := c.modes(); err != nil {
		return err
	}
	return nil
}

// modes parses the compatibility settings.
func (c Config) modes() (capture.SchemaModes, error) {
	return capture.ParseSchemaModes("postgres", c.Name, c.Compatibility, c.TableCompatibility, splitTable)
}

// splitTable splits "schema.table" (or "table", meaning public.table).
func splitTable(t string) (string, string, error) {
	parts := strings.Split(t, ".")
	switch {
	case len(parts) == 1 && parts[0] != "":
		return "public", parts[0], nil
	case len(parts) == 2 && parts[0] != "" && parts[1] != "":
		return parts[0], parts[1], nil
	}
	return "", "", fmt.Errorf("table %q is not schema.table", t)
}
