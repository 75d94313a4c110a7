package api

import (
	"encoding/hex"
	"maps"

	"google.golang.org/protobuf/types/known/timestamppb"

	cairnv1 "github.com/cairnlog/cairn/api/cairnv1"
	"github.com/cairnlog/cairn/journal"
)

// toEntry converts a stored record to the public API entry. The API message is
// a view: nothing a client sends or receives is ever hashed.
func toEntry(r *journal.Record) *cairnv1.Entry {
	e := &cairnv1.Entry{
		Stream:            r.Stream,
		Seq:               r.Seq,
		Hash:              hex.EncodeToString(r.Hash[:]),
		PrevHash:          hex.EncodeToString(r.PrevHash[:]),
		Kind:              r.Kind.String(),
		SourceId:          r.SourceID,
		SourcePosition:    r.SourcePosition,
		TxId:              r.TxID,
		Table:             r.Table,
		Key:               r.Key,
		Before:            string(r.Before),
		After:             string(r.After),
		SchemaFingerprint: r.SchemaFingerprint,
		ProducerId:        r.ProducerID,
		ProducerSeq:       r.ProducerSeq,
		Payload:           r.Payload,
	}
	if r.Op != 0 {
		e.Op = r.Op.String()
	}
	if !r.CommitTime.IsZero() {
		e.CommitTime = timestamppb.New(r.CommitTime)
	}
	if !r.RecordedAt.IsZero() {
		e.RecordedAt = timestamppb.New(r.RecordedAt)
	}
	if len(r.Metadata) > 0 {
		e.Metadata = maps.Clone(r.Metadata)
	}
	return e
}

func toHead(h journal.Head) *cairnv1.StreamHead {
	return &cairnv1.StreamHead{
		Stream:   h.Stream,
		Seq:      h.Seq,
		Hash:     hex.EncodeToString(h.Hash[:]),
		TreeSize: h.TreeSize(),
		RootHash: hex.EncodeToString(h.Root[:]),
	}
}

func hexHashes(hs []journal.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = hex.EncodeToString(h[:])
	}
	return out
}
