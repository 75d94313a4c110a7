package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/replay/state"
	pulsarsink "github.com/cairnlog/cairn/sinks/pulsar"
)

// sinkConfig is one entry of `sinks:`.
type sinkConfig struct {
	Name        string   `yaml:"name"`
	Type        string   `yaml:"type"`
	Stream      string   `yaml:"stream"`
	ServiceURL  string   `yaml:"service_url"`
	TopicPrefix string   `yaml:"topic_prefix"`
	Tables      []string `yaml:"tables"`
}

func (s sinkConfig) pulsar(log *slog.Logger) (pulsarsink.Config, error) {
	if s.Type != "pulsar" {
		return pulsarsink.Config{}, fmt.Errorf("config: sink %s: type %q is not supported (supported: pulsar)", s.Name, s.Type)
	}
	c := pulsarsink.Config{Name: s.Name, Stream: s.Stream, ServiceURL: s.ServiceURL, TopicPrefix: s.TopicPrefix, Tables: s.Tables, Logger: log}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

func validateSinks(sinks []sinkConfig) error {
	seen := map[string]bool{}
	for _, s := range sinks {
		if seen[s.Name] {
			return fmt.Errorf("config: two sinks are named %q", s.Name)
		}
		seen[s.Name] = true
		if _, err := s.pulsar(nil); err != nil {
			return err
		}
	}
	return nil
}

// sinkRunner keeps one sink running: a failed run (broker away) is logged
// and retried with backoff from the sink's durable position.
type sinkRunner struct {
	mu   sync.Mutex
	sink *pulsarsink.Sink
}

func (r *sinkRunner) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sink != nil {
		r.sink.Close()
		r.sink = nil
	}
}

func startSinks(ctx context.Context, cfg fileConfig, st *state.DB, store journal.Store, log *slog.Logger, wg *sync.WaitGroup) ([]*sinkRunner, error) {
	var runners []*sinkRunner
	for _, sc := range cfg.Sinks {
		pc, err := sc.pulsar(log)
		if err != nil {
			return nil, err
		}
		r := &sinkRunner{}
		runners = append(runners, r)
		wg.Add(1)
		go func() {
			defer wg.Done()
			backoff := time.Second
			for ctx.Err() == nil {
				s, err := pulsarsink.New(store, st, pc)
				if err == nil {
					r.mu.Lock()
					r.sink = s
					r.mu.Unlock()
					err = s.Run(ctx)
					r.Close()
				}
				if err == nil || ctx.Err() != nil {
					return
				}
				log.Warn("sink failed; retrying from its saved position", "sink", sc.Name, "err", err, "in", backoff)
				select {
				case <-ctx.Done():
					return
				case <-time.After(backoff):
				}
				backoff = min(2*backoff, 30*time.Second)
			}
		}()
	}
	return runners, nil
}
