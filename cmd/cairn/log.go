package main

import (
	"context"
	"log/slog"
	"sync"
)

// openGate holds back the log records a store emits while it opens. If the
// open fails they are dropped, because the returned error already says what
// went wrong (Badger logs its own open failures before returning them);
// once the open succeeds they are written and later records pass straight
// through. This keeps every failure a single "cairn: ..." line on stderr.
type openGate struct {
	mu      sync.Mutex
	passing bool
	held    []heldRecord
}

type heldRecord struct {
	h slog.Handler
	r slog.Record
}

// release writes the held records and lets later ones through.
func (g *openGate) release(ctx context.Context) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, hr := range g.held {
		_ = hr.h.Handle(ctx, hr.r)
	}
	g.held, g.passing = nil, true
}

// drop discards the held records; later records are held again.
func (g *openGate) drop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.held = nil
}

// gatedHandler sends records to inner through a gate.
type gatedHandler struct {
	gate  *openGate
	inner slog.Handler
}

func (h gatedHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h gatedHandler) Handle(ctx context.Context, r slog.Record) error {
	h.gate.mu.Lock()
	defer h.gate.mu.Unlock()
	if h.gate.passing {
		return h.inner.Handle(ctx, r)
	}
	h.gate.held = append(h.gate.held, heldRecord{h: h.inner, r: r.Clone()})
	return nil
}

func (h gatedHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return gatedHandler{gate: h.gate, inner: h.inner.WithAttrs(attrs)}
}

func (h gatedHandler) WithGroup(name string) slog.Handler {
	return gatedHandler{gate: h.gate, inner: h.inner.WithGroup(name)}
}
