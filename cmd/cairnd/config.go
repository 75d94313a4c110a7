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
	if len(c.Sources) == 0 {
		return fmt.Errorf("config: no sources: add at least one under sources: (name, type: postgres, dsn)")
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
