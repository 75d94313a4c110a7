package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/journal/badgerstore"
	"github.com/cairnlog/cairn/journal/pulsarstore"
)

// journalConfig selects the journal backend.
type journalConfig struct {
	Backend string              `yaml:"backend"` // badger (default) | pulsar
	Pulsar  pulsarJournalConfig `yaml:"pulsar"`
}

type pulsarJournalConfig struct {
	ServiceURL     string `yaml:"service_url"`
	AdminURL       string `yaml:"admin_url"`
	Namespace      string `yaml:"namespace"`
	SigningKeyFile string `yaml:"signing_key_file"`
}

func (j journalConfig) validate() error {
	switch j.Backend {
	case "", "badger":
		if j.Pulsar != (pulsarJournalConfig{}) {
			return fmt.Errorf("config: journal.pulsar is set but journal.backend is not pulsar")
		}
	case "pulsar":
		p := j.Pulsar
		if p.ServiceURL == "" || p.AdminURL == "" {
			return fmt.Errorf("config: journal.backend pulsar needs journal.pulsar.service_url (pulsar://host:6650) and admin_url (http://host:8080)")
		}
		if p.SigningKeyFile == "" {
			return fmt.Errorf("config: journal.backend pulsar needs journal.pulsar.signing_key_file: every node must sign checkpoints with the same key (make one with `cairn keys` or copy a data dir's signing.key)")
		}
	default:
		return fmt.Errorf("config: journal.backend %q is not badger or pulsar", j.Backend)
	}
	return nil
}

// leader is implemented by backends where one node at a time may write a
// stream (pulsarstore): capture waits for it before starting.
type leader interface {
	AcquireStream(ctx context.Context, stream string) (journal.Head, error)
}

// openBackend opens the configured backend. The local data dir holds the
// Badger journal, or for Pulsar the rebuildable index cache.
func openBackend(cfg fileConfig, encKey []byte, log *slog.Logger) (journal.Store, error) {
	if cfg.Journal.Backend != "pulsar" {
		scfg := badgerstore.DefaultConfig(cfg.DataDir)
		scfg.Logger = log
		scfg.EncryptionKey = encKey
		return badgerstore.Open(scfg)
	}
	p := cfg.Journal.Pulsar
	pc := pulsarstore.DefaultConfig(p.ServiceURL, p.AdminURL, filepath.Join(cfg.DataDir, "pulsar"))
	if p.Namespace != "" {
		pc.Namespace = p.Namespace
	}
	pc.SigningKeyFile = p.SigningKeyFile
	pc.Logger = log
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return pulsarstore.Open(ctx, pc)
}

// awaitLeadership blocks until this node may write stream (at once on
// Badger). It logs while it waits so an operator sees a standby.
func awaitLeadership(ctx context.Context, store journal.Store, stream string, log *slog.Logger) error {
	l, ok := store.(leader)
	if !ok {
		return nil
	}
	log.Info("waiting to lead stream (another node may be writing it)", "stream", stream)
	start := time.Now()
	h, err := l.AcquireStream(ctx, stream)
	if err != nil {
		return err
	}
	log.Info("leading stream", "stream", stream, "head", h.Seq, "waited", time.Since(start).String())
	return nil
}
