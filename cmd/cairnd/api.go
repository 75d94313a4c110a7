package main

import (
	"log/slog"
	"path/filepath"
	"time"

	"github.com/cairnlog/cairn/api"
	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/replay"
	"github.com/cairnlog/cairn/replay/queue"
	"github.com/cairnlog/cairn/replay/state"
)

// openState opens the consumer state store when the API or a sink needs it.
func openState(cfg fileConfig, encKey []byte, log *slog.Logger) (*state.DB, error) {
	if !cfg.serving() && len(cfg.Sinks) == 0 {
		return nil, nil
	}
	return state.Open(filepath.Join(cfg.DataDir, "state"), encKey, log)
}

// startAPI builds the API server when the config has listen addresses.
// close releases what it opened.
func startAPI(cfg fileConfig, st *state.DB, store journal.Store, log *slog.Logger) (*api.Server, func(), error) {
	if !cfg.serving() {
		return nil, func() {}, nil
	}
	var auth *api.Auth
	if cfg.Auth.Mode != "none" {
		a, err := api.LoadTokens(cfg.Auth.TokensFile, cfg.Tenants)
		if err != nil {
			return nil, nil, err
		}
		auth = a
	} else {
		log.Warn("the API serves without authentication (auth.mode: none)")
	}
	q := queue.NewManager(store, st, queue.Options{
		MaxAttempts:  cfg.Queue.MaxAttempts,
		DefaultLease: time.Duration(cfg.Queue.LeaseSeconds) * time.Second,
		Logger:       log,
	})
	srv, err := api.New(store, replay.NewCheckpoints(store, st), q, api.Config{
		GRPCListen: cfg.Listen.GRPC, HTTPListen: cfg.Listen.HTTP, Auth: auth,
		TLSCertFile: cfg.TLS.CertFile, TLSKeyFile: cfg.TLS.KeyFile, Logger: log,
	})
	if err != nil {
		q.Close()
		return nil, nil, err
	}
	log.Info("api listening", "grpc", srv.GRPCAddr(), "http", srv.HTTPAddr(), "auth", cfg.Auth.Mode == "" || cfg.Auth.Mode == "tokens", "tls", cfg.TLS.CertFile != "")
	return srv, func() { q.Close() }, nil
}
