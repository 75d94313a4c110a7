package queue

import (
	"fmt"
	"log/slog"
	"time"
)

// Defaults of Options. They follow Hugo's SafeTaskQueue where it has one
// (30 s lease, 5 delivery attempts).
const (
	DefaultMaxAttempts  = 5
	DefaultLeaseTime    = 30 * time.Second
	DefaultMaxLease     = time.Hour
	DefaultMaxInFlight  = 10000
	MaxBatch            = 1000 // most entries one Lease returns and most tokens one Ack, Nack or Extend takes
	maxDeadLetterPage   = 1000 // most dead letters one DeadLetters call returns
	gcDeletesPerUpdate  = 2048 // stale entry keys removed per state write, so one write stays one Badger transaction
	maxDeadPerCall      = 500  // dead letters made per call, for the same reason
	journalReadMaxBatch = 1024
	recordCacheBytes    = 8 << 20 // per group: records admitted and not leased yet, kept to spare a second journal read
)

// Options configure a Manager. A zero field takes its default.
type Options struct {
	// MaxAttempts is how many deliveries an entry gets; when the last one is
	// nacked or its lease expires, the entry is dead-lettered. Default 5.
	MaxAttempts int
	// DefaultLease is the lease used when Lease or Extend is called with
	// lease = 0. Default 30s.
	DefaultLease time.Duration
	// MaxLease bounds the lease of Lease and Extend and the delay of Nack.
	// Default 1h.
	MaxLease time.Duration
	// MaxInFlight bounds, per group, the entries admitted from the journal
	// and not yet finished (pending, delayed or leased). It bounds the
	// group's memory; a larger backlog stays in the journal. Default 10000.
	MaxInFlight int
	// Now is the clock for deadlines and nack delays. Default time.Now.
	// Long-poll waits (Lease's wait) always use real time.
	Now func() time.Time
	// Logger receives group lifecycle logs (created, loaded, dead letters).
	// Default: discard.
	Logger *slog.Logger
}

// DefaultOptions returns the defaults spelled out.
func DefaultOptions() Options {
	return Options{
		MaxAttempts:  DefaultMaxAttempts,
		DefaultLease: DefaultLeaseTime,
		MaxLease:     DefaultMaxLease,
		MaxInFlight:  DefaultMaxInFlight,
		Now:          time.Now,
		Logger:       slog.New(slog.DiscardHandler),
	}
}

// Validate reports the first unusable setting. Zero fields are valid (they
// take their defaults); negative ones and a DefaultLease above MaxLease are not.
func (o Options) Validate() error {
	switch {
	case o.MaxAttempts < 0:
		return fmt.Errorf("%w: MaxAttempts is %d; use a positive number of deliveries, or 0 for the default %d", ErrInvalidArgument, o.MaxAttempts, DefaultMaxAttempts)
	case o.DefaultLease < 0:
		return fmt.Errorf("%w: DefaultLease is %s; use a positive duration, or 0 for the default %s", ErrInvalidArgument, o.DefaultLease, DefaultLeaseTime)
	case o.MaxLease < 0:
		return fmt.Errorf("%w: MaxLease is %s; use a positive duration, or 0 for the default %s", ErrInvalidArgument, o.MaxLease, DefaultMaxLease)
	case o.MaxInFlight < 0:
		return fmt.Errorf("%w: MaxInFlight is %d; use a positive bound, or 0 for the default %d", ErrInvalidArgument, o.MaxInFlight, DefaultMaxInFlight)
	}
	n := o.withDefaults()
	if n.DefaultLease > n.MaxLease {
		return fmt.Errorf("%w: DefaultLease %s is longer than MaxLease %s; raise MaxLease or shorten DefaultLease", ErrInvalidArgument, n.DefaultLease, n.MaxLease)
	}
	return nil
}

// withDefaults fills zero (and, defensively, negative) fields with defaults.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = d.MaxAttempts
	}
	if o.DefaultLease <= 0 {
		o.DefaultLease = d.DefaultLease
	}
	if o.MaxLease <= 0 {
		o.MaxLease = d.MaxLease
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = d.MaxInFlight
	}
	if o.Now == nil {
		o.Now = d.Now
	}
	if o.Logger == nil {
		o.Logger = d.Logger
	}
	return o
}
