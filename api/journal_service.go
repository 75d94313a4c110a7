package api

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	cairnv1 "github.com/cairnlog/cairn/api/cairnv1"
	"github.com/cairnlog/cairn/api/hugo"
	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/replay"
)

// Page sizes for ReadEntries.
const (
	defaultPage = 100
	maxPage     = 10000
	// maxAppendBatch bounds one AppendEntries call.
	maxAppendBatch = 10000
)

type journalService struct {
	cairnv1.UnimplementedJournalServiceServer
	s *Server
}

func (j *journalService) ListStreams(ctx context.Context, _ *cairnv1.ListStreamsRequest) (*cairnv1.ListStreamsResponse, error) {
	heads, err := j.s.store.Streams(ctx)
	if err != nil {
		return nil, err
	}
	out := &cairnv1.ListStreamsResponse{}
	for _, h := range heads {
		if j.s.auth.canRead(ctx, h.Stream) {
			out.Streams = append(out.Streams, toHead(h))
		}
	}
	return out, nil
}

// knownStream checks that a stream exists and returns its head.
func (s *Server) knownStream(ctx context.Context, stream string) (journal.Head, error) {
	if err := journal.ValidateStreamName(stream); err != nil {
		return journal.Head{}, err
	}
	h, err := s.store.Head(ctx, stream)
	if errors.Is(err, journal.ErrUnknownStream) {
		return h, errorf(CodeUnknownStream, "stream %q does not exist: list streams with GET /v1/streams (a capture source's stream is named after the source)", stream)
	}
	return h, err
}

func (j *journalService) ReadEntries(ctx context.Context, req *cairnv1.ReadEntriesRequest) (*cairnv1.ReadEntriesResponse, error) {
	head, err := j.s.knownStream(ctx, req.Stream)
	if err != nil {
		return nil, err
	}
	limit := int(req.Limit)
	switch {
	case req.Limit == 0:
		limit = defaultPage
	case req.Limit < 0 || req.Limit > maxPage:
		return nil, invalid("limit %d is out of range: ask for 1 to %d entries per page", req.Limit, maxPage)
	}
	from := req.FromSeq
	if from == 0 {
		from = 1
	}
	if from > head.Seq+1 {
		return nil, errorf(CodeBeyondHead, "from_seq %d is beyond the head of stream %q (%d): read from at most %d, or subscribe to wait for new entries", from, req.Stream, head.Seq, head.Seq+1)
	}
	filter, err := replay.ParseFilter(req.Tables, req.Ops, req.Kinds)
	if err != nil {
		return nil, err
	}
	cur, err := replay.NewCursor(j.s.store, req.Stream, replay.CursorOptions{From: from, Filter: filter, TxComplete: req.TxComplete, PageSize: limit})
	if err != nil {
		return nil, err
	}
	out := &cairnv1.ReadEntriesResponse{HeadSeq: head.Seq}
	recs, err := cur.Next(ctx)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	for i := range recs {
		e, err := j.s.renderAs(ctx, &recs[i], req.Profile, req.StoredImages)
		if err != nil {
			return nil, err
		}
		out.Entries = append(out.Entries, e)
	}
	out.NextSeq = cur.Position() + 1
	if len(recs) == 0 && cur.Position() < from {
		out.NextSeq = from
	}
	return out, nil
}

// render converts a record for the API, with the profile's extra rendering.
// Avro row images are rendered as canonical row JSON through the stream's
// schema history first.
func (s *Server) render(ctx context.Context, stored *journal.Record, p cairnv1.Profile) (*cairnv1.Entry, error) {
	return s.renderAs(ctx, stored, p, false)
}

// renderAs is render; with storedImages the row images go out as stored
// (stored_before/stored_after), for clients that re-hash entries.
func (s *Server) renderAs(ctx context.Context, stored *journal.Record, p cairnv1.Profile, storedImages bool) (*cairnv1.Entry, error) {
	if storedImages {
		if p != cairnv1.Profile_PROFILE_UNSPECIFIED {
			return nil, invalid("stored_images and a profile do not mix: the profile renders row JSON, stored images are the hashed bytes")
		}
		e := toEntry(stored)
		e.Before, e.After = "", ""
		e.StoredBefore, e.StoredAfter = stored.Before, stored.After
		return e, nil
	}
	rr, err := s.hist.Render(ctx, stored)
	if err != nil {
		return nil, fmt.Errorf("render seq %d: %w", stored.Seq, err)
	}
	r := &rr
	e := toEntry(r)
	switch p {
	case cairnv1.Profile_PROFILE_UNSPECIFIED:
	case cairnv1.Profile_PROFILE_HUGO:
		b, err := hugo.Render(r, s.hugoOpts)
		if err != nil {
			return nil, fmt.Errorf("render seq %d in the hugo profile: %w", r.Seq, err)
		}
		e.HugoJson = string(b)
	default:
		return nil, invalid("unknown profile %v: use PROFILE_UNSPECIFIED or PROFILE_HUGO", p)
	}
	return e, nil
}

func (j *journalService) AppendEntries(ctx context.Context, req *cairnv1.AppendEntriesRequest) (*cairnv1.AppendEntriesResponse, error) {
	if err := journal.ValidateStreamName(req.Stream); err != nil {
		return nil, err
	}
	if len(req.Events) == 0 {
		return nil, invalid("no events to append: send {\"events\": [{\"producer_id\": ..., \"producer_seq\": ..., \"payload\": ...}]}")
	}
	if len(req.Events) > maxAppendBatch {
		return nil, invalid("%d events in one call: send at most %d per call", len(req.Events), maxAppendBatch)
	}
	entries := make([]journal.Entry, len(req.Events))
	for i, ev := range req.Events {
		if strings.TrimSpace(ev.ProducerId) == "" {
			return nil, invalid("event %d has no producer_id: every app event needs (producer_id, producer_seq) so a retry is recognised", i)
		}
		if ev.ProducerSeq == 0 {
			return nil, invalid("event %d (producer %q) has producer_seq 0: number each producer's events from 1", i, ev.ProducerId)
		}
		entries[i] = journal.Entry{
			Kind:        journal.KindAppEvent,
			ProducerID:  ev.ProducerId,
			ProducerSeq: ev.ProducerSeq,
			Key:         ev.Key,
			Payload:     ev.Payload,
			Metadata:    ev.Metadata,
		}
	}
	res, err := j.s.store.Append(ctx, req.Stream, entries)
	if err != nil {
		return nil, err
	}
	out := &cairnv1.AppendEntriesResponse{Results: make([]*cairnv1.AppendResult, len(res))}
	for i, r := range res {
		out.Results[i] = &cairnv1.AppendResult{Seq: r.Seq, Duplicate: r.Duplicate}
	}
	return out, nil
}

func (j *journalService) GetCheckpoint(ctx context.Context, req *cairnv1.GetCheckpointRequest) (*cairnv1.GetCheckpointResponse, error) {
	if _, err := j.s.knownStream(ctx, req.Stream); err != nil {
		return nil, err
	}
	cp, err := j.s.store.Checkpoint(ctx, req.Stream)
	if err != nil {
		return nil, err
	}
	return &cairnv1.GetCheckpointResponse{
		Checkpoint:  string(cp.Note),
		Origin:      cp.Origin,
		TreeSize:    cp.Size,
		RootHash:    hex.EncodeToString(cp.Root[:]),
		VerifierKey: j.s.store.VerifierKey(),
	}, nil
}

func (j *journalService) GetInclusionProof(ctx context.Context, req *cairnv1.GetInclusionProofRequest) (*cairnv1.GetInclusionProofResponse, error) {
	head, err := j.s.knownStream(ctx, req.Stream)
	if err != nil {
		return nil, err
	}
	if req.Seq == 0 {
		return nil, invalid("seq is required and starts at 1")
	}
	size := req.TreeSize
	if size == 0 {
		size = head.Seq
	}
	if size > head.Seq {
		return nil, errorf(CodeBeyondHead, "tree_size %d is beyond the head of stream %q (%d): ask for a tree size up to the head, or 0 for the head", size, req.Stream, head.Seq)
	}
	if req.Seq > size {
		return nil, errorf(CodeBeyondHead, "seq %d is not in the tree of %d entries: ask for a larger tree_size (or 0 for the head)", req.Seq, size)
	}
	p, err := j.s.store.InclusionProof(ctx, req.Stream, req.Seq, size)
	if err != nil {
		return nil, err
	}
	return &cairnv1.GetInclusionProofResponse{
		Seq: p.Seq, TreeSize: p.TreeSize,
		LeafHash: hex.EncodeToString(p.EntryHash[:]), RootHash: hex.EncodeToString(p.Root[:]),
		Hashes: hexHashes(p.Path),
	}, nil
}

func (j *journalService) GetConsistencyProof(ctx context.Context, req *cairnv1.GetConsistencyProofRequest) (*cairnv1.GetConsistencyProofResponse, error) {
	head, err := j.s.knownStream(ctx, req.Stream)
	if err != nil {
		return nil, err
	}
	to := req.ToSize
	if to == 0 {
		to = head.Seq
	}
	if to > head.Seq {
		return nil, errorf(CodeBeyondHead, "to_size %d is beyond the head of stream %q (%d): use at most the head, or 0 for the head", to, req.Stream, head.Seq)
	}
	if req.FromSize == 0 || req.FromSize > to {
		return nil, invalid("from_size %d must be between 1 and to_size %d", req.FromSize, to)
	}
	p, err := j.s.store.ConsistencyProof(ctx, req.Stream, req.FromSize, to)
	if err != nil {
		return nil, err
	}
	return &cairnv1.GetConsistencyProofResponse{
		FromSize: p.FromSize, ToSize: p.ToSize,
		FromRoot: hex.EncodeToString(p.FromRoot[:]), ToRoot: hex.EncodeToString(p.ToRoot[:]),
		Hashes: hexHashes(p.Path),
	}, nil
}
