package journal

import (
	"context"
	"errors"
	"fmt"
)

// SchemaHead is the latest `schema` entry recorded for one table of a
// stream: its seq and its schema fingerprint.
type SchemaHead struct {
	Seq         uint64
	Fingerprint []byte
}

// SchemaHeads is an optional Store capability: the latest `schema` entry
// of every table (Entry.Table) of a stream, exact at the durable head.
// Capture needs it at every (re)start to decide whether a table's current
// shape is already recorded; the answer must come from the journal, not
// from the memory of a session, or a restart would record entries that
// an uninterrupted run does not have.
//
// Stores that implement it keep an index written atomically with the
// schema entries (badgerstore). For the others LatestSchemas reads the
// whole stream once, which costs one full scan per capture (re)start.
type SchemaHeads interface {
	SchemaHeads(ctx context.Context, stream string) (map[string]SchemaHead, error)
}

// SchemaVersion is one `schema` entry of a stream: its table, seq and
// schema fingerprint.
type SchemaVersion struct {
	Table       string
	Seq         uint64
	Fingerprint []byte
}

// SchemaVersions is an optional Store capability: every `schema` entry of
// a stream up to the durable head, in seq order. Capture replays them all
// at a (re)start, so a subject's compatibility checks (the *_TRANSITIVE
// modes look at every earlier version) give the verdicts an uninterrupted
// run gives.
type SchemaVersions interface {
	SchemaVersions(ctx context.Context, stream string) ([]SchemaVersion, error)
}

// LatestSchemas returns the latest schema entry per table of stream, from
// the store's SchemaHeads index when it has one, else from AllSchemas. An
// unknown stream has none.
func LatestSchemas(ctx context.Context, store interface {
	Read(ctx context.Context, stream string, from uint64, limit int) ([]Record, error)
}, stream string) (map[string]SchemaHead, error) {
	if sh, ok := store.(SchemaHeads); ok {
		return sh.SchemaHeads(ctx, stream)
	}
	all, err := AllSchemas(ctx, store, stream)
	if err != nil {
		return nil, err
	}
	out := map[string]SchemaHead{}
	for _, v := range all {
		out[v.Table] = SchemaHead{Seq: v.Seq, Fingerprint: v.Fingerprint}
	}
	return out, nil
}

// AllSchemas returns every schema entry of stream in seq order, from the
// store's SchemaVersions index when it has one, else by scanning every
// entry (O(stream length)). An unknown stream has none.
func AllSchemas(ctx context.Context, store interface {
	Read(ctx context.Context, stream string, from uint64, limit int) ([]Record, error)
}, stream string) ([]SchemaVersion, error) {
	if sv, ok := store.(SchemaVersions); ok {
		return sv.SchemaVersions(ctx, stream)
	}
	var out []SchemaVersion
	for from := uint64(1); ; {
		recs, err := store.Read(ctx, stream, from, 1024)
		if err != nil {
			if isUnknownStream(err) {
				return out, nil
			}
			return nil, fmt.Errorf("scan %s for schema entries: %w", stream, err)
		}
		if len(recs) == 0 {
			return out, nil
		}
		for i := range recs {
			if e := &recs[i].Entry; e.Kind == KindSchema {
				out = append(out, SchemaVersion{Table: e.Table, Seq: e.Seq, Fingerprint: append([]byte(nil), e.SchemaFingerprint...)})
			}
		}
		from = recs[len(recs)-1].Seq + 1
	}
}

func isUnknownStream(err error) bool { return errors.Is(err, ErrUnknownStream) }
