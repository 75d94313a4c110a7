package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/journal/badgerstore"
)

// Environment variables read by every command.
const (
	envDataDir       = "CAIRN_DATA_DIR"
	envEncryptionKey = "CAIRN_ENCRYPTION_KEY"
)

// openMode says how a command opens the store.
type openMode int

const (
	openCreate   openMode = iota // read-write, creating the data dir if needed (append)
	openExisting                 // read-write, the journal must exist (checkpoint)
	openReadOnly                 // read-only, the journal must exist (tail, verify, proofs, keys)
)

// resolveDataDir returns --data-dir, or CAIRN_DATA_DIR when the flag is unset.
func (a *app) resolveDataDir() (string, error) {
	dir := a.dataDir
	if dir == "" {
		dir = a.getenv(envDataDir)
	}
	if dir == "" {
		return "", usageErr("--data-dir is required (or set %s)", envDataDir)
	}
	return dir, nil
}

// encryptionKey returns the AES key from --encryption-key-file or
// CAIRN_ENCRYPTION_KEY, or nil when neither is set.
func (a *app) encryptionKey() ([]byte, error) {
	if a.keyFile != "" {
		b, err := os.ReadFile(a.keyFile)
		if err != nil {
			return nil, fmt.Errorf("%w: read --encryption-key-file: %v", journal.ErrEncryptionKey, err)
		}
		key, err := badgerstore.ParseKeyFile(b)
		if err != nil {
			return nil, fmt.Errorf("%w: --encryption-key-file %s: %v", journal.ErrEncryptionKey, a.keyFile, err)
		}
		return key, nil
	}
	if v := a.getenv(envEncryptionKey); v != "" {
		key, err := badgerstore.ParseHexKey(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", journal.ErrEncryptionKey, envEncryptionKey, err)
		}
		return key, nil
	}
	return nil, nil
}

// openStore opens the data dir's journal. Errors from the store already say
// what to do (locked dir, missing journal, key problems) and pass through as is.
func (a *app) openStore(mode openMode) (*badgerstore.Store, string, error) {
	dir, err := a.resolveDataDir()
	if err != nil {
		return nil, "", err
	}
	key, err := a.encryptionKey()
	if err != nil {
		return nil, "", err
	}
	cfg := badgerstore.DefaultConfig(dir)
	cfg.EncryptionKey = key
	gate := &openGate{}
	cfg.Logger = slog.New(gatedHandler{gate: gate, inner: a.log.Handler()})
	cfg.MustExist = mode != openCreate
	cfg.ReadOnly = mode == openReadOnly
	s, err := badgerstore.Open(cfg)
	if err != nil && mode == openReadOnly && errors.Is(err, badgerstore.ErrUncleanShutdown) {
		// The last writer crashed and left files (a torn write-ahead log, an
		// unsized memtable file) that only a read-write open can repair; the
		// repair drops only never-acknowledged bytes. Do that once instead of
		// refusing to read.
		gate.drop()
		a.log.Info("data dir was not closed cleanly; opening it read-write to recover", "dir", dir)
		cfg.ReadOnly = false
		gate = &openGate{}
		cfg.Logger = slog.New(gatedHandler{gate: gate, inner: a.log.Handler()})
		s, err = badgerstore.Open(cfg)
	}
	if err != nil {
		gate.drop()
		return nil, "", err
	}
	gate.release(context.Background())
	return s, dir, nil
}

// closeStore closes s and reports a close failure through *errp unless an
// earlier error is already there.
func closeStore(s *badgerstore.Store, errp *error) {
	if err := s.Close(); err != nil && *errp == nil {
		*errp = err
	}
}

// streamFlag validates a --stream value.
func streamFlag(name string) error {
	if err := journal.ValidateStreamName(name); err != nil {
		return usageErr("--stream: %v", err)
	}
	return nil
}

// requireStream returns the head of stream, turning an unknown stream into an
// error that lists the streams the data dir does have.
func requireStream(ctx context.Context, s *badgerstore.Store, dir, stream string) (journal.Head, error) {
	h, err := s.Head(ctx, stream)
	if err == nil || !errors.Is(err, journal.ErrUnknownStream) {
		return h, err
	}
	heads, lerr := s.Streams(ctx)
	if lerr != nil {
		return h, err
	}
	have := "it has no streams yet"
	if len(heads) > 0 {
		names := make([]string, len(heads))
		for i, hd := range heads {
			names[i] = hd.Stream
		}
		have = "it has: " + strings.Join(names, ", ")
	}
	return h, fmt.Errorf("%w %q in data dir %s (%s)", journal.ErrUnknownStream, stream, dir, have)
}
