package capture

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cairnlog/cairn/journal"
)

// Resume is where a source picks up: the journal's durable high-water
// source position and the entry at it, the last one the source wrote (nil
// for a stream without captured entries; app events after it are not
// Last).
type Resume struct {
	Position []byte
	Last     *journal.Entry
	// Schemas is the latest `schema` entry recorded for each table
	// (keyed by Entry.Table), exact at Position. A source that records
	// schemas decides from it, never from an earlier session's memory,
	// whether a table's shape is new.
	Schemas map[string]journal.Entry
	// SchemaHistory is every `schema` entry of the stream, in journal
	// order: replayed into the registry, it makes compatibility verdicts
	// against earlier versions (the *_TRANSITIVE modes) what an
	// uninterrupted run would record.
	SchemaHistory []journal.Entry
	// Read reads the stream's own entries (nil for an empty stream), for
	// a source whose resume point lies in an earlier entry than Last.
	Read func(ctx context.Context, from uint64, limit int) ([]journal.Record, error)
}

// Source is a change stream that can resume from a journal position.
type Source interface {
	// Start connects and begins streaming changes after resume.
	Start(ctx context.Context, resume Resume) error
	// Next returns the next entries in commit order, blocking until at least
	// one is ready. Every entry carries a SourcePosition.
	Next(ctx context.Context) ([]journal.Entry, error)
	// Durable tells the source that every entry up to and including pos is in
	// the journal, so it may acknowledge its server up to there.
	Durable(pos []byte)
	// Close releases the connection. Start may be called again after Close.
	Close() error
}

// ErrPermanent marks errors that retrying cannot fix (a lost slot, bad
// configuration). Run returns them instead of reconnecting.
var ErrPermanent = errors.New("permanent capture error")

// Permanent wraps err so that errors.Is(err, ErrPermanent) holds.
func Permanent(err error) error { return fmt.Errorf("%w: %w", ErrPermanent, err) }

// Appender is the part of journal.Store the capture loop needs.
type Appender interface {
	Append(ctx context.Context, stream string, entries []journal.Entry) ([]journal.AppendResult, error)
	HighWater(ctx context.Context, stream string) ([]byte, error)
	Head(ctx context.Context, stream string) (journal.Head, error)
	Read(ctx context.Context, stream string, from uint64, limit int) ([]journal.Record, error)
}

// Config configures the capture loop.
type Config struct {
	Stream     string        // the journal stream (one per source)
	MinBackoff time.Duration // first wait before reconnecting
	MaxBackoff time.Duration // longest wait between reconnects
	Logger     *slog.Logger
}

// DefaultConfig returns the loop defaults for a stream.
func DefaultConfig(stream string) Config {
	return Config{Stream: stream, MinBackoff: 200 * time.Millisecond, MaxBackoff: 15 * time.Second}
}

// Validate reports the first unusable setting.
func (c Config) Validate() error {
	if err := journal.ValidateStreamName(c.Stream); err != nil {
		return fmt.Errorf("capture config: %w", err)
	}
	if c.MinBackoff <= 0 || c.MaxBackoff < c.MinBackoff {
		return fmt.Errorf("capture config: backoff %v..%v is not a positive range", c.MinBackoff, c.MaxBackoff)
	}
	return nil
}

// Run captures src into the journal until ctx ends or a permanent error
// occurs. Transient errors (network, server restart) reconnect with
// exponential backoff, resuming from the journal's durable high-water mark.
func Run(ctx context.Context, cfg Config, store Appender, src Source) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	backoff := cfg.MinBackoff
	for {
		started := time.Now()
		err := runOnce(ctx, cfg.Stream, store, src, log)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrPermanent) {
			return err
		}
		if time.Since(started) > time.Minute {
			backoff = cfg.MinBackoff // it ran well for a while: start the backoff over
		}
		log.Warn("capture interrupted; reconnecting", "stream", cfg.Stream, "err", err, "in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil
		}
		backoff = min(backoff*2, cfg.MaxBackoff)
	}
}

func runOnce(ctx context.Context, stream string, store Appender, src Source, log *slog.Logger) error {
	resume, err := resumePoint(ctx, store, stream)
	if err != nil {
		return Permanent(err)
	}
	if err := src.Start(ctx, resume); err != nil {
		return fmt.Errorf("start source: %w", err)
	}
	defer src.Close()
	log.Info("capture started", "stream", stream, "resume", fmt.Sprintf("%x", resume.Position))

	// The source decodes in its own goroutine while this loop appends, so
	// whatever accumulated during one sync becomes the next batch. (A
	// second read-ahead stage here would freeze small batches early and
	// make each wait behind a full sync.)
	for {
		b, err := src.Next(ctx)
		if err != nil {
			return err
		}
		if _, err := store.Append(ctx, stream, b); err != nil {
			if errors.Is(err, journal.ErrStoreFailed) || errors.Is(err, journal.ErrClosed) {
				return Permanent(err)
			}
			return fmt.Errorf("append to %s: %w", stream, err)
		}
		src.Durable(b[len(b)-1].SourcePosition)
	}
}

// lastSourceEntry reads back from seq head to the last entry with a source
// position (nil when there is none).
func lastSourceEntry(ctx context.Context, read func(context.Context, uint64, int) ([]journal.Record, error), head uint64) (*journal.Entry, error) {
	const page = 256
	for hi := head; hi >= 1; {
		from := uint64(1)
		if hi > page {
			from = hi - page + 1
		}
		recs, err := read(ctx, from, int(hi-from+1))
		if err != nil {
			return nil, err
		}
		for i := len(recs) - 1; i >= 0; i-- {
			if len(recs[i].SourcePosition) > 0 {
				return &recs[i].Entry, nil
			}
		}
		hi = from - 1
	}
	return nil, nil
}

func resumePoint(ctx context.Context, store Appender, stream string) (Resume, error) {
	var r Resume
	hw, err := store.HighWater(ctx, stream)
	if errors.Is(err, journal.ErrUnknownStream) {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("read the journal's high-water mark for %s: %w", stream, err)
	}
	head, err := store.Head(ctx, stream)
	if err != nil {
		return r, fmt.Errorf("read the head of %s: %w", stream, err)
	}
	r.Read = func(ctx context.Context, from uint64, limit int) ([]journal.Record, error) {
		return store.Read(ctx, stream, from, limit)
	}
	// Last is the last entry the source wrote: the one at the high-water
	// position. Entries without a source position (app events appended
	// through the API) may follow it; they say nothing about the source.
	last, err := lastSourceEntry(ctx, r.Read, head.Seq)
	if err != nil {
		return r, fmt.Errorf("read the last captured entry of %s: %w", stream, err)
	}
	r.Position, r.Last = hw, last
	versions, err := journal.AllSchemas(ctx, store, stream)
	if err != nil {
		return r, fmt.Errorf("read the schema entries of %s: %w", stream, err)
	}
	r.Schemas = make(map[string]journal.Entry, len(versions))
	for _, v := range versions {
		recs, err := store.Read(ctx, stream, v.Seq, 1)
		if err != nil || len(recs) != 1 || recs[0].Kind != journal.KindSchema || recs[0].Table != v.Table {
			return r, fmt.Errorf("read the schema entry %d of %s (%s): %v", v.Seq, stream, v.Table, err)
		}
		r.SchemaHistory = append(r.SchemaHistory, recs[0].Entry)
		r.Schemas[v.Table] = recs[0].Entry // versions are in seq order: the last one wins
	}
	return r, nil
}
