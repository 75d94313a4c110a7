// Command cairnd captures database changes into the Cairn journal.
//
//	cairnd --config cairnd.yaml
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cairnlog/cairn/capture"
	"github.com/cairnlog/cairn/journal/badgerstore"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "cairnd:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("cairnd", flag.ContinueOnError)
	configPath := fs.String("config", "", "YAML config file (required)")
	dataDir := fs.String("data-dir", "", "override data_dir from the config")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *configPath == "" {
		return errors.New("--config FILE is required (see docs/cairnd.md)")
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	level := slog.LevelInfo
	if err := level.UnmarshalText([]byte(orDefault(cfg.LogLevel, "info"))); err != nil {
		return fmt.Errorf("config: log_level %q (use debug, info, warn or error)", cfg.LogLevel)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	encKey, err := encryptionKey(cfg.EncryptionKeyFile)
	if err != nil {
		return err
	}
	store, err := openBackend(cfg, encKey, log)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log.Info("cairnd started", "data_dir", cfg.DataDir, "sources", len(cfg.Sources))

	var wg sync.WaitGroup
	errs := make(chan error, len(cfg.Sources)+1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sources := map[string]capture.Source{}
	for _, sc := range cfg.Sources {
		src, err := sc.source(log)
		if err != nil {
			store.Close()
			return err
		}
		sources[sc.Name] = src
	}
	st, err := openState(cfg, encKey, log)
	if err != nil {
		store.Close()
		return err
	}
	closeState := func() {
		if st != nil {
			st.Close()
		}
	}
	apiSrv, closeAPI, err := startAPI(cfg, st, store, log)
	if err != nil {
		closeState()
		store.Close()
		return err
	}
	sinks, err := startSinks(ctx, cfg, st, store, log, &wg)
	if err != nil {
		closeAPI()
		closeState()
		store.Close()
		return err
	}
	if cfg.MetricsListen != "" {
		if err := serveMetrics(ctx, cfg.MetricsListen, newCollector(store, sources), log); err != nil {
			store.Close()
			return err
		}
	}
	for _, sc := range cfg.Sources {
		src := sources[sc.Name]
		lc := capture.DefaultConfig(sc.Name)
		lc.Logger = log
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := awaitLeadership(ctx, store, sc.Name, log); err != nil {
				if ctx.Err() == nil {
					errs <- fmt.Errorf("source %s: %w", sc.Name, err)
					cancel()
				}
				return
			}
			if err := capture.Run(ctx, lc, store, src); err != nil {
				errs <- fmt.Errorf("source %s: %w", sc.Name, err)
				cancel() // one failed source stops the daemon, so a supervisor notices
			}
		}()
	}
	if apiSrv != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			serveErr := make(chan error, 1)
			go func() { serveErr <- apiSrv.Serve() }()
			select {
			case err := <-serveErr:
				if err != nil {
					errs <- fmt.Errorf("api: %w", err)
					cancel()
				}
			case <-ctx.Done():
				sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
				apiSrv.Stop(sctx)
				scancel()
				<-serveErr
			}
		}()
	}
	wg.Wait()
	cancel()
	close(errs)
	closeAPI()
	for _, sk := range sinks {
		sk.Close()
	}
	closeState()
	cerr := store.Close()
	var first error
	for err := range errs {
		log.Error("capture stopped", "err", err)
		if first == nil {
			first = err
		}
	}
	if first == nil && cerr != nil {
		first = cerr
	}
	if first == nil {
		log.Info("cairnd stopped cleanly")
	}
	return first
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// encryptionKey reads the AES key from the configured file or from
// CAIRN_ENCRYPTION_KEY (hex); never from the config body itself.
func encryptionKey(path string) ([]byte, error) {
	switch {
	case path != "":
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("encryption_key_file: %w", err)
		}
		key, err := badgerstore.ParseKeyFile(b)
		if err != nil {
			return nil, fmt.Errorf("encryption_key_file %s: %w", path, err)
		}
		return key, nil
	case os.Getenv("CAIRN_ENCRYPTION_KEY") != "":
		key, err := badgerstore.ParseHexKey(strings.TrimSpace(os.Getenv("CAIRN_ENCRYPTION_KEY")))
		if err != nil {
			return nil, fmt.Errorf("CAIRN_ENCRYPTION_KEY: %w", err)
		}
		return key, nil
	}
	return nil, nil
}
