package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cairnlog/cairn/capture"
	"github.com/cairnlog/cairn/capture/postgres"
	"github.com/cairnlog/cairn/journal"
)

// collector reports the journal heads and each source's slot state at
// scrape time, so nothing has to be updated on the hot path.
type collector struct {
	store   journal.Store
	sources map[string]capture.Source

	headSeq   *prometheus.Desc
	lagBytes  *prometheus.Desc
	confirmed *prometheus.Desc
	incompat  *prometheus.Desc
}

func newCollector(store journal.Store, sources map[string]capture.Source) *collector {
	return &collector{
		store: store, sources: sources,
		headSeq:   prometheus.NewDesc("cairn_journal_head_seq", "Last durable seq of a journal stream.", []string{"stream"}, nil),
		lagBytes:  prometheus.NewDesc("cairn_postgres_slot_lag_bytes", "Bytes of WAL between the server's current position and the slot's confirmed position (from the last heartbeat).", []string{"source", "slot"}, nil),
		confirmed: prometheus.NewDesc("cairn_postgres_confirmed_lsn", "LSN this source last confirmed to its slot, as a number.", []string{"source", "slot"}, nil),
		incompat:  prometheus.NewDesc("cairn_schema_incompatible_versions_total", "Schema versions this source recorded since cairnd started that failed their subject's compatibility check.", []string{"source"}, nil),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.headSeq
	ch <- c.lagBytes
	ch <- c.confirmed
	ch <- c.incompat
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if heads, err := c.store.Streams(ctx); err == nil {
		for _, h := range heads {
			ch <- prometheus.MustNewConstMetric(c.headSeq, prometheus.GaugeValue, float64(h.Seq), h.Stream)
		}
	}
	for name, src := range c.sources {
		if pg, ok := src.(*postgres.Source); ok {
			if lag := pg.LagBytes(); lag >= 0 {
				ch <- prometheus.MustNewConstMetric(c.lagBytes, prometheus.GaugeValue, float64(lag), name, pg.SlotName())
			}
			ch <- prometheus.MustNewConstMetric(c.confirmed, prometheus.GaugeValue, float64(pg.ConfirmedLSN()), name, pg.SlotName())
		}
		if sc, ok := src.(interface{ IncompatibleSchemas() int64 }); ok {
			ch <- prometheus.MustNewConstMetric(c.incompat, prometheus.CounterValue, float64(sc.IncompatibleSchemas()), name)
		}
	}
}

// serveMetrics serves /metrics on addr until ctx ends.
func serveMetrics(ctx context.Context, addr string, c *collector, log *slog.Logger) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(c, prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics_listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	log.Info("serving metrics", "addr", ln.Addr().String())
	return nil
}
