// Package history is the schema history of journal streams, for readers:
// it rebuilds a stream's schema registry from its `schema` entries, in
// journal order, and renders the Avro row images of change and
// snapshot_read entries back into the canonical row JSON of
// docs/formats/row-json.md (schema.Codec.Decode), byte for byte what
// capture produced before encoding.
//
// An entry carries a schema fingerprint when its images are Avro; entries
// without one (MySQL capture, app events, rows the codec could not encode)
// pass through untouched. A key-only before image (metadata
// before_image=key) is canonical key JSON and passes through too.
//
// A History learns versions as they are appended: a fingerprint it does
// not know makes it read the stream's entries it has not read yet, up to
// the entry being rendered (the schema entry always precedes the first
// entry that uses it). The first such read of a long stream costs one scan
// of it; records rendered in order (tail, subscriptions) feed their schema
// entries in directly.
//
// Allowed imports: journal, schema (it is in replay, the readers' area).
package history

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/schema"
)

// Reader is the part of journal.Store a History reads.
type Reader interface {
	Read(ctx context.Context, stream string, from uint64, limit int) ([]journal.Record, error)
}

// ErrUnknownFingerprint: an entry names a schema the stream never recorded
// before it.
var ErrUnknownFingerprint = errors.New("schema fingerprint not recorded in the stream")

// History is one stream's schema history. Safe for concurrent use.
type History struct {
	r      Reader
	stream string

	mu     sync.Mutex
	reg    *schema.Registry
	codecs map[schema.Fingerprint]*schema.Codec
	next   uint64 // the next seq whose schema entry (if any) is not applied
}

// New returns an empty history of stream, read through r when needed.
func New(r Reader, stream string) *History {
	reg, _ := schema.NewRegistry(schema.DefaultConfig())
	return &History{r: r, stream: stream, reg: reg, codecs: map[schema.Fingerprint]*schema.Codec{}, next: 1}
}

// Registry returns the registry rebuilt so far (Sync first for all of it).
func (h *History) Registry() *schema.Registry { return h.reg }

// Sync applies the stream's schema entries up to and including seq upto
// (0: up to the head).
func (h *History) Sync(ctx context.Context, upto uint64) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.syncLocked(ctx, upto)
}

func (h *History) syncLocked(ctx context.Context, upto uint64) error {
	for upto == 0 || h.next <= upto {
		limit := 1024
		if upto != 0 && upto-h.next+1 < uint64(limit) {
			limit = int(upto - h.next + 1)
		}
		recs, err := h.r.Read(ctx, h.stream, h.next, limit)
		if errors.Is(err, journal.ErrUnknownStream) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read the schema history of %s: %w", h.stream, err)
		}
		if len(recs) == 0 {
			return nil
		}
		for i := range recs {
			if err := h.observeLocked(&recs[i].Entry); err != nil {
				return err
			}
		}
	}
	return nil
}

// observeLocked applies e when it is the next entry of the stream.
func (h *History) observeLocked(e *journal.Entry) error {
	if e.Seq != h.next {
		return nil
	}
	if e.Kind == journal.KindSchema {
		reg, err := schema.UnmarshalRegistration(e.Payload)
		if err != nil {
			return fmt.Errorf("%s seq %d: %w", h.stream, e.Seq, err)
		}
		if _, _, err := h.reg.Apply(reg); err != nil {
			return fmt.Errorf("%s seq %d: %w", h.stream, e.Seq, err)
		}
		fp := schema.FingerprintOf(reg.Schema)
		if _, ok := h.codecs[fp]; !ok {
			c, err := schema.NewCodec(reg.Schema)
			if err != nil {
				return fmt.Errorf("%s seq %d: %w", h.stream, e.Seq, err)
			}
			h.codecs[fp] = c
		}
	}
	h.next++
	return nil
}

// Codec returns the codec of fp, reading the stream up to seq if needed.
func (h *History) Codec(ctx context.Context, fp []byte, seq uint64) (*schema.Codec, error) {
	var f schema.Fingerprint
	if len(fp) != len(f) {
		return nil, fmt.Errorf("%s seq %d: fingerprint of %d bytes: %w", h.stream, seq, len(fp), ErrUnknownFingerprint)
	}
	copy(f[:], fp)
	h.mu.Lock()
	defer h.mu.Unlock()
	if c, ok := h.codecs[f]; ok {
		return c, nil
	}
	if err := h.syncLocked(ctx, seq); err != nil {
		return nil, err
	}
	if c, ok := h.codecs[f]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("%s seq %d: %s: %w", h.stream, seq, f, ErrUnknownFingerprint)
}

// HasAvroImages reports whether e's row images are Avro.
func HasAvroImages(e *journal.Entry) bool {
	return len(e.SchemaFingerprint) > 0 && (e.Kind == journal.KindChange || e.Kind == journal.KindSnapshotRead)
}

// Render returns rec with its row images as canonical row JSON. Records
// without Avro images are returned as they are; the record's hash and
// every other field are kept (the result is a view, not the stored entry).
func (h *History) Render(ctx context.Context, rec *journal.Record) (journal.Record, error) {
	h.mu.Lock()
	err := h.observeLocked(&rec.Entry)
	h.mu.Unlock()
	if err != nil {
		return journal.Record{}, err
	}
	if !HasAvroImages(&rec.Entry) {
		return *rec, nil
	}
	c, err := h.Codec(ctx, rec.SchemaFingerprint, rec.Seq)
	if err != nil {
		return journal.Record{}, err
	}
	out := *rec
	if len(rec.Before) > 0 && rec.Metadata["before_image"] != "key" {
		if out.Before, err = c.Decode(nil, rec.Before); err != nil {
			return journal.Record{}, fmt.Errorf("%s seq %d: before image: %w", h.stream, rec.Seq, err)
		}
	}
	if len(rec.After) > 0 {
		if out.After, err = c.Decode(nil, rec.After); err != nil {
			return journal.Record{}, fmt.Errorf("%s seq %d: after image: %w", h.stream, rec.Seq, err)
		}
	}
	return out, nil
}

// Set keeps one History per stream.
type Set struct {
	r  Reader
	mu sync.Mutex
	m  map[string]*History
}

// NewSet returns an empty set reading through r.
func NewSet(r Reader) *Set { return &Set{r: r, m: map[string]*History{}} }

// Stream returns the history of stream.
func (s *Set) Stream(stream string) *History {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.m[stream]
	if h == nil {
		h = New(s.r, stream)
		s.m[stream] = h
	}
	return h
}

// Render renders rec through its stream's history.
func (s *Set) Render(ctx context.Context, rec *journal.Record) (journal.Record, error) {
	if !HasAvroImages(&rec.Entry) && rec.Kind != journal.KindSchema {
		return *rec, nil
	}
	return s.Stream(rec.Stream).Render(ctx, rec)
}
