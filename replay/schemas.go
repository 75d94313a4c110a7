package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/schema"
)

// SchemaLog is the schema registry as a journal records it: every stream's
// `schema` entries (payload: a schema.Registration) applied in seq order.
// Refresh catches up with what was appended since the last call (one Head
// per stream when nothing is new), so new versions appear as soon as
// capture records them. The first Refresh reads each stream once.
// Safe for concurrent use.
type SchemaLog struct {
	store journal.Store
	mu    sync.Mutex
	reg   *schema.Registry
	next  map[string]uint64 // per stream: the next seq not yet read
	where map[schema.Fingerprint]Recorded
}

// Recorded is where a schema was first recorded in the journal.
type Recorded struct {
	Stream string
	Seq    uint64
	At     time.Time // recorded_at of the schema entry
}

// NewSchemaLog returns an empty log over store; call Refresh to read it.
func NewSchemaLog(store journal.Store) *SchemaLog {
	reg, _ := schema.NewRegistry(schema.DefaultConfig())
	return &SchemaLog{store: store, reg: reg, next: map[string]uint64{}, where: map[schema.Fingerprint]Recorded{}}
}

// Refresh applies the schema entries appended since the last call and
// returns the registry. A schema entry that does not decode is an error
// wrapping journal.ErrCorrupt naming the stream and seq.
func (l *SchemaLog) Refresh(ctx context.Context) (*schema.Registry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	heads, err := l.store.Streams(ctx)
	if err != nil {
		return nil, err
	}
	for _, h := range heads {
		from := max(l.next[h.Stream], 1)
		if h.Seq < from {
			continue
		}
		cur, err := NewCursor(l.store, h.Stream, CursorOptions{From: from, Filter: Filter{Kinds: []journal.Kind{journal.KindSchema}}, PageSize: MaxPageSize})
		if err != nil {
			return nil, err
		}
		for {
			recs, err := cur.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, err
			}
			for i := range recs {
				if err := l.apply(&recs[i]); err != nil {
					return nil, err
				}
			}
		}
		l.next[h.Stream] = cur.Position() + 1
	}
	return l.reg, nil
}

func (l *SchemaLog) apply(r *journal.Record) error {
	reg, err := schema.UnmarshalRegistration(r.Payload)
	if err != nil {
		return fmt.Errorf("%w: stream %s seq %d: schema entry: %v", journal.ErrCorrupt, r.Stream, r.Seq, err)
	}
	ver, _, err := l.reg.Apply(reg)
	if err != nil {
		return fmt.Errorf("%w: stream %s seq %d: %v", journal.ErrCorrupt, r.Stream, r.Seq, err)
	}
	if _, ok := l.where[ver.Fingerprint]; !ok {
		l.where[ver.Fingerprint] = Recorded{Stream: r.Stream, Seq: r.Seq, At: r.RecordedAt}
	}
	return nil
}

// Where says where a schema was first recorded (as of the last Refresh).
func (l *SchemaLog) Where(fp schema.Fingerprint) (Recorded, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.where[fp]
	return w, ok
}
