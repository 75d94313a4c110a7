package api

import (
	"context"
	"encoding/hex"
	"errors"
	"io"

	"google.golang.org/protobuf/types/known/timestamppb"

	cairnv1 "github.com/cairnlog/cairn/api/cairnv1"
	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/replay"
)

// subscribeBatch is the most entries one SubscribeResponse carries.
const subscribeBatch = 1000

type replayService struct {
	cairnv1.UnimplementedReplayServiceServer
	s *Server
}

// subscription is one running subscribe call, shared by the gRPC stream and
// the REST NDJSON handler.
type subscription struct {
	s        *Server
	req      *cairnv1.SubscribeRequest
	cur      *replay.Cursor
	lastSent uint64 // position reported in the last progress
}

// openSubscription resolves the start (from_seq or the named checkpoint) and
// opens the cursor.
func (s *Server) openSubscription(ctx context.Context, req *cairnv1.SubscribeRequest) (*subscription, error) {
	if err := journal.ValidateStreamName(req.Stream); err != nil {
		return nil, err
	}
	from := req.FromSeq
	if from == 0 && req.Subscription != "" {
		cp, err := s.checkpoints.Get(ctx, req.Stream, req.Subscription)
		switch {
		case err == nil:
			from = cp.Seq + 1
		case errors.Is(err, replay.ErrNoSubscription):
			from = 1
		default:
			return nil, err
		}
	}
	if from == 0 {
		from = 1
	}
	filter, err := replay.ParseFilter(req.Tables, req.Ops, req.Kinds)
	if err != nil {
		return nil, err
	}
	if req.Profile != cairnv1.Profile_PROFILE_UNSPECIFIED && req.Profile != cairnv1.Profile_PROFILE_HUGO {
		return nil, invalid("unknown profile %v: use PROFILE_UNSPECIFIED or PROFILE_HUGO", req.Profile)
	}
	if _, err := s.store.Head(ctx, req.Stream); errors.Is(err, journal.ErrUnknownStream) {
		if from > 1 || req.NoFollow {
			return nil, errorf(CodeUnknownStream, "stream %q does not exist: list streams with GET /v1/streams, or subscribe from seq 1 to wait for its first entry", req.Stream)
		}
		// A subscriber may start before the capture: wait for the first entry.
		if _, err := s.store.Wait(ctx, req.Stream, 0); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	// The cursor does not follow by itself: at the head the subscription
	// reports progress and then waits, so a filtered-out tail still moves
	// the consumer's position.
	cur, err := replay.NewCursor(s.store, req.Stream, replay.CursorOptions{
		From: from, Filter: filter, TxComplete: req.TxComplete, Verify: req.Verify, PageSize: subscribeBatch,
	})
	if err != nil {
		return nil, err
	}
	return &subscription{s: s, req: req, cur: cur, lastSent: from - 1}, nil
}

// next returns the next batch (possibly empty with a progress report), or
// io.EOF when a no_follow subscription has reached the head.
func (sub *subscription) next(ctx context.Context) ([]journal.Record, *cairnv1.Progress, error) {
	for {
		recs, err := sub.cur.Next(ctx)
		if err == nil {
			return recs, sub.progress(ctx, recs[len(recs)-1].Seq, recs[len(recs)-1].Hash, false), nil
		}
		if !errors.Is(err, io.EOF) {
			return nil, nil, err
		}
		head, herr := sub.s.store.Head(ctx, sub.req.Stream)
		if herr != nil {
			return nil, nil, herr
		}
		pos := sub.cur.Position()
		if pos != sub.lastSent || sub.req.NoFollow {
			p, perr := sub.positionProgress(ctx, pos, head.Seq)
			if perr != nil {
				return nil, nil, perr
			}
			if sub.req.NoFollow {
				return nil, p, io.EOF
			}
			return nil, p, nil
		}
		if _, err := sub.s.store.Wait(ctx, sub.req.Stream, head.Seq); err != nil {
			return nil, nil, err
		}
	}
}

func (sub *subscription) progress(_ context.Context, seq uint64, hash journal.Hash, caughtUp bool) *cairnv1.Progress {
	sub.lastSent = seq
	return &cairnv1.Progress{Seq: seq, Hash: hex.EncodeToString(hash[:]), CaughtUp: caughtUp}
}

// positionProgress reports the cursor position when nothing was delivered
// up to it (everything filtered out, or caught up).
func (sub *subscription) positionProgress(ctx context.Context, pos, head uint64) (*cairnv1.Progress, error) {
	p := &cairnv1.Progress{Seq: pos, HeadSeq: head, CaughtUp: true}
	sub.lastSent = pos
	if pos == 0 {
		return p, nil
	}
	recs, err := sub.s.store.Read(ctx, sub.req.Stream, pos, 1)
	if err != nil {
		return nil, err
	}
	if len(recs) == 1 {
		p.Hash = hex.EncodeToString(recs[0].Hash[:])
	}
	return p, nil
}

// subscribeAhead is how many batches the reader may prepare ahead of the
// sender: reading and converting the next batch overlaps with marshalling
// and writing the current one.
const subscribeAhead = 2

type prepared struct {
	resp *cairnv1.SubscribeResponse
	err  error // io.EOF: no_follow reached the head after resp
}

// prepare reads and renders batches until ctx ends or an error, handing
// each to out.
func (sub *subscription) prepare(ctx context.Context, out chan<- prepared) {
	defer close(out)
	for {
		recs, p, err := sub.next(ctx)
		if err != nil && !errors.Is(err, io.EOF) {
			out <- prepared{err: err}
			return
		}
		resp := &cairnv1.SubscribeResponse{Progress: p, Entries: make([]*cairnv1.Entry, 0, len(recs))}
		for i := range recs {
			e, rerr := sub.s.renderAs(ctx, &recs[i], sub.req.Profile, sub.req.StoredImages)
			if rerr != nil {
				out <- prepared{err: rerr}
				return
			}
			resp.Entries = append(resp.Entries, e)
		}
		select {
		case out <- prepared{resp: resp, err: err}:
		case <-ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

func (r *replayService) Subscribe(req *cairnv1.SubscribeRequest, stream cairnv1.ReplayService_SubscribeServer) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	sub, err := r.s.openSubscription(ctx, req)
	if err != nil {
		return err
	}
	batches := make(chan prepared, subscribeAhead)
	go sub.prepare(ctx, batches)
	for b := range batches {
		if b.resp != nil && (len(b.resp.Entries) > 0 || b.resp.Progress != nil) {
			if err := stream.Send(b.resp); err != nil {
				return err
			}
		}
		if errors.Is(b.err, io.EOF) {
			return nil
		}
		if b.err != nil {
			return b.err
		}
	}
	return ctx.Err()
}

func toSubscription(cp replay.Checkpoint) *cairnv1.Subscription {
	return &cairnv1.Subscription{
		Stream: cp.Stream, Name: cp.Name, Seq: cp.Seq,
		Hash: hex.EncodeToString(cp.Hash[:]), UpdatedAt: timestamppb.New(cp.UpdatedAt),
	}
}

func (r *replayService) CommitCheckpoint(ctx context.Context, req *cairnv1.CommitCheckpointRequest) (*cairnv1.CommitCheckpointResponse, error) {
	if _, err := r.s.knownStream(ctx, req.Stream); err != nil {
		return nil, err
	}
	h, err := journal.ParseHash(req.Hash)
	if err != nil {
		return nil, invalid("hash %q is not a 64-digit hex entry hash: send the hash delivered with entry seq %d", req.Hash, req.Seq)
	}
	cp, err := r.s.checkpoints.Commit(ctx, req.Stream, req.Name, req.Seq, h)
	if err != nil {
		return nil, err
	}
	return &cairnv1.CommitCheckpointResponse{Subscription: toSubscription(cp)}, nil
}

func (r *replayService) GetSubscription(ctx context.Context, req *cairnv1.GetSubscriptionRequest) (*cairnv1.GetSubscriptionResponse, error) {
	if _, err := r.s.knownStream(ctx, req.Stream); err != nil {
		return nil, err
	}
	cp, err := r.s.checkpoints.Get(ctx, req.Stream, req.Name)
	if err != nil {
		return nil, err
	}
	return &cairnv1.GetSubscriptionResponse{Subscription: toSubscription(cp)}, nil
}
