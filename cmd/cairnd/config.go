package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cairnlog/cairn/capture"
	"github.com/cairnlog/cairn/capture/mysql"
	"github.com/cairnlog/cairn/capture/postgres"
)

// fileConfig is the YAML config file of cairnd.
type fileConfig struct {
	DataDir           string         `yaml:"data_dir"`
	EncryptionKeyFile string         `yaml:"encryption_key_file"`
	LogLevel          string         `yaml:"log_level"`
	MetricsListen     string         `yaml:"metrics_listen"`
	Sources           []sourceConfig `yaml:"sources"`
	Listen            listenConfig   `yaml:"listen"`
	Auth              authConfig     `yaml:"auth"`
	TLS               tlsConfig      `yaml:"tls"`
	// Tenants maps a tenant to the stream-name patterns it owns (for token
	// grants); unclaimed streams belong to tenant "default".
	Tenants map[string][]string `yaml:"tenants"`
	Queue   queueConfig         `yaml:"queue"`
	Sinks   []sinkConfig        `yaml:"sinks"`
	Journal journalConfig       `yaml:"journal"`
}

type listenConfig struct {
	GRPC string `yaml:"grpc"`
	HTTP string `yaml:"http"`
}

type authConfig struct {
	Mode       string `yaml:"mode"`
	TokensFile string `yaml:"tokens_file"`
}

type tlsConfig struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

type queueConfig struct {
	MaxAttempts  int `yaml:"max_attempts"`
	LeaseSeconds int `yaml:"lease_seconds"`
}

// serving reports whether the config asks for the API.
func (c fileConfig) serving() bool { return c.Listen.GRPC != "" || c.Listen.HTTP != "" }

func (c fileConfig) validateAPI() error {
	if !c.serving() {
		if c.Auth != (authConfig{}) || c.TLS != (tlsConfig{}) {
			return fmt.Errorf("config: auth and tls are set but nothing listens: add listen.grpc and/or listen.http")
		}
		return nil
	}
	switch c.Auth.Mode {
	case "", "tokens":
		if c.Auth.TokensFile == "" {
			return fmt.Errorf("config: auth.mode is tokens (the default) but auth.tokens_file is not set: make tokens with `cairn token new`, or set auth.mode: none to serve without authentication")
		}
	case "none":
		if c.Auth.TokensFile != "" {
			return fmt.Errorf("config: auth.mode is none but auth.tokens_file is set: remove one of them")
		}
	default:
		return fmt.Errorf("config: auth.mode %q is not tokens or none", c.Auth.Mode)
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		return fmt.Errorf("config: tls needs both cert_file and key_file")
	}
	if c.Queue.MaxAttempts < 0 || c.Queue.LeaseSeconds < 0 {
		return fmt.Errorf("config: queue.max_attempts and queue.lease_seconds must not be negative")
	}
	return nil
}

type sourceConfig struct {
	Name              string   `yaml:"name"`
	Type              string   `yaml:"type"`
	DSN               string   `yaml:"dsn"`
	Slot              string   `yaml:"slot"`
	Publication       string   `yaml:"publication"`
	Tables            []string `yaml:"tables"`
	Snapshot          string   `yaml:"snapshot"`
	HeartbeatInterval string   `yaml:"heartbeat_interval"`
	ServerID          uint32   `yaml:"server_id"`
	StartGTID         string   `yaml:"start_gtid"`
	// Schema compatibility: the default mode of the source's subjects and
	// overrides per schema.table (postgres) or database.table (mysql).
	Compatibility      string            `yaml:"compatibility"`
	TableCompatibility map[string]string `yaml:"table_compatibility"`
}

// loadConfig reads and validates the YAML file; unknown keys are errors so a
// typo never silently falls back to a default.
func loadConfig(path string) (fileConfig, error) {
	var c fileConfig
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("read config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

func (c fileConfig) validate() error {
	if c.DataDir == "" {
		return fmt.Errorf("config: data_dir is required (where the journal lives)")
	}
	if len(c.Sources) == 0 && !c.serving() {
		return fmt.Errorf("config: no sources and no API: add a source under sources: (name, type: postgres, dsn), or listen: to serve app events")
	}
	if err := c.validateAPI(); err != nil {
		return err
	}
	if err := validateSinks(c.Sinks); err != nil {
		return err
	}
	if err := c.Journal.validate(); err != nil {
		return err
	}
	if c.Journal.Backend == "pulsar" && c.EncryptionKeyFile != "" {
		return fmt.Errorf("config: encryption_key_file applies to the Badger journal; with journal.backend pulsar use Pulsar's own encryption at rest (the topic holds entry bytes as they are hashed)")
	}
	seen := map[string]bool{}
	for i, s := range c.Sources {
		if s.Name == "" {
			return fmt.Errorf("config: sources[%d] has no name", i)
		}
		if seen[s.Name] {
			return fmt.Errorf("config: two sources are named %q; names are stream names and must be unique", s.Name)
		}
		seen[s.Name] = true
		if _, err := s.source(nil); err != nil {
			return err
		}
	}
	return nil
}

func (s sourceConfig) heartbeat(def time.Duration) (time.Duration, error) {
	if s.HeartbeatInterval == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s.HeartbeatInterval)
	if err != nil {
		return 0, fmt.Errorf("config: source %s: heartbeat_interval %q is not a duration like 10s", s.Name, s.HeartbeatInterval)
	}
	return d, nil
}

// source builds the capture source a config entry describes.
func (s sourceConfig) source(log *slog.Logger) (capture.Source, error) {
	switch s.Type {
	case "postgres":
		pc, err := s.postgres()
		if err != nil {
			return nil, err
		}
		pc.Logger = log
		return postgres.New(pc)
	case "mysql":
		mc, err := s.mysql()
		if err != nil {
			return nil, err
		}
		mc.Logger = log
		return mysql.New(mc)
	case "":
		return nil, fmt.Errorf("config: source %s has no type (type: postgres or type: mysql)", s.Name)
	}
	return nil, fmt.Errorf("config: source %s: type %q is not supported (supported: postgres, mysql)", s.Name, s.Type)
}

// mysql builds the capture config of a mysql (MariaDB) source.
func (s sourceConfig) mysql() (mysql.Config, error) {
	mc := mysql.DefaultConfig(s.Name, s.DSN)
	if s.Slot != "" || s.Publication != "" {
		return mc, fmt.Errorf("config: source %s: slot and publication are postgres settings (a mysql source takes dsn, server_id, tables, snapshot, start_gtid, heartbeat_interval)", s.Name)
	}
	mc.Compatibility, mc.TableCompatibility = s.Compatibility, s.TableCompatibility
	if s.Snapshot != "" {
		mc.Snapshot = s.Snapshot
	}
	if s.ServerID != 0 {
		mc.ServerID = s.ServerID
	}
	mc.Tables, mc.StartGTID = s.Tables, s.StartGTID
	d, err := s.heartbeat(mc.HeartbeatInterval)
	if err != nil {
		return mc, err
	}
	mc.HeartbeatInterval = d
	return mc, mc.Validate()
}

// postgres builds the capture config of a postgres source.
func (s sourceConfig) postgres() (postgres.Config, error) {
	if s.ServerID != 0 || s.StartGTID != "" {
		return postgres.Config{}, fmt.Errorf("config: source %s: server_id and start_gtid are mysql settings", s.Name)
	}
	pc := postgres.DefaultConfig(s.Name, s.DSN)
	pc.Compatibility, pc.TableCompatibility = s.Compatibility, s.TableCompatibility
	if s.Slot != "" {
		pc.Slot = s.Slot
	}
	if s.Publication != "" {
		pc.Publication = s.Publication
	}
	pc.Tables = s.Tables
	if s.Snapshot != "" {
		pc.Snapshot = s.Snapshot
	}
	d, err := s.heartbeat(pc.HeartbeatInterval)
	if err != nil {
		return pc, err
	}
	pc.HeartbeatInterval = d
	return pc, pc.Validate()
}
