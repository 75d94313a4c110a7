package api

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	cairnv1 "github.com/cairnlog/cairn/api/cairnv1"
	"github.com/cairnlog/cairn/replay/queue"
)

// Limits of one queue call.
const (
	maxLeaseBatch = 1000
	maxWait       = 60 // seconds
)

type queueService struct {
	cairnv1.UnimplementedQueueServiceServer
	s *Server
}

func seconds(n int32, what string, limit int32) (time.Duration, error) {
	if n < 0 || (limit > 0 && n > limit) {
		if limit > 0 {
			return 0, invalid("%s %d is out of range: use 0 to %d", what, n, limit)
		}
		return 0, invalid("%s %d is negative", what, n)
	}
	return time.Duration(n) * time.Second, nil
}

func (q *queueService) Lease(ctx context.Context, req *cairnv1.LeaseRequest) (*cairnv1.LeaseResponse, error) {
	if _, err := q.s.knownStream(ctx, req.Stream); err != nil {
		return nil, err
	}
	n := int(req.Max)
	switch {
	case req.Max == 0:
		n = 1
	case req.Max < 0 || req.Max > maxLeaseBatch:
		return nil, invalid("max %d is out of range: lease 1 to %d entries per call", req.Max, maxLeaseBatch)
	}
	lease, err := seconds(req.LeaseSeconds, "lease_seconds", 0)
	if err != nil {
		return nil, err
	}
	wait, err := seconds(req.WaitSeconds, "wait_seconds", maxWait)
	if err != nil {
		return nil, err
	}
	got, err := q.s.queue.Lease(ctx, req.Stream, req.Group, n, lease, wait)
	if err != nil {
		return nil, err
	}
	out := &cairnv1.LeaseResponse{Leases: make([]*cairnv1.Lease, len(got))}
	for i := range got {
		e, err := q.s.render(ctx, &got[i].Record, req.Profile)
		if err != nil {
			return nil, err
		}
		out.Leases[i] = &cairnv1.Lease{Token: toToken(got[i].Token), Entry: e, Deadline: timestamppb.New(got[i].Deadline)}
	}
	return out, nil
}

func toToken(t queue.Token) *cairnv1.LeaseToken {
	return &cairnv1.LeaseToken{SequenceId: t.SequenceID, Attempt: t.Attempt, LeaseId: t.LeaseID}
}

func fromTokens(ts []*cairnv1.LeaseToken) ([]queue.Token, error) {
	if len(ts) == 0 {
		return nil, invalid("no tokens: send the tokens returned by :lease")
	}
	if len(ts) > maxLeaseBatch {
		return nil, invalid("%d tokens in one call: send at most %d", len(ts), maxLeaseBatch)
	}
	out := make([]queue.Token, len(ts))
	for i, t := range ts {
		if t == nil || t.SequenceId == 0 || t.Attempt == 0 || t.LeaseId == "" {
			return nil, invalid("token %d is incomplete: each token needs sequence_id, attempt and lease_id exactly as :lease returned them", i)
		}
		out[i] = queue.Token{SequenceID: t.SequenceId, Attempt: t.Attempt, LeaseID: t.LeaseId}
	}
	return out, nil
}

func toSettled(r queue.Result) *cairnv1.Settled {
	out := &cairnv1.Settled{Done: int32(r.Done)}
	for _, rj := range r.Rejected {
		out.Rejected = append(out.Rejected, &cairnv1.Rejected{Token: toToken(rj.Token), Code: string(codeOf(rj.Err)), Message: rj.Err.Error()})
	}
	return out
}

func (q *queueService) Ack(ctx context.Context, req *cairnv1.AckRequest) (*cairnv1.AckResponse, error) {
	if _, err := q.s.knownStream(ctx, req.Stream); err != nil {
		return nil, err
	}
	toks, err := fromTokens(req.Tokens)
	if err != nil {
		return nil, err
	}
	r, err := q.s.queue.Ack(ctx, req.Stream, req.Group, toks)
	if err != nil {
		return nil, err
	}
	return &cairnv1.AckResponse{Settled: toSettled(r)}, nil
}

func (q *queueService) Nack(ctx context.Context, req *cairnv1.NackRequest) (*cairnv1.NackResponse, error) {
	if _, err := q.s.knownStream(ctx, req.Stream); err != nil {
		return nil, err
	}
	toks, err := fromTokens(req.Tokens)
	if err != nil {
		return nil, err
	}
	delay, err := seconds(req.DelaySeconds, "delay_seconds", 0)
	if err != nil {
		return nil, err
	}
	r, err := q.s.queue.Nack(ctx, req.Stream, req.Group, toks, delay)
	if err != nil {
		return nil, err
	}
	return &cairnv1.NackResponse{Settled: toSettled(r)}, nil
}

func (q *queueService) Extend(ctx context.Context, req *cairnv1.ExtendRequest) (*cairnv1.ExtendResponse, error) {
	if _, err := q.s.knownStream(ctx, req.Stream); err != nil {
		return nil, err
	}
	toks, err := fromTokens(req.Tokens)
	if err != nil {
		return nil, err
	}
	lease, err := seconds(req.LeaseSeconds, "lease_seconds", 0)
	if err != nil {
		return nil, err
	}
	r, err := q.s.queue.Extend(ctx, req.Stream, req.Group, toks, lease)
	if err != nil {
		return nil, err
	}
	return &cairnv1.ExtendResponse{Settled: toSettled(r)}, nil
}

func (q *queueService) GetGroup(ctx context.Context, req *cairnv1.GetGroupRequest) (*cairnv1.GetGroupResponse, error) {
	if _, err := q.s.knownStream(ctx, req.Stream); err != nil {
		return nil, err
	}
	st, err := q.s.queue.Status(ctx, req.Stream, req.Group)
	if err != nil {
		return nil, err
	}
	return &cairnv1.GetGroupResponse{Group: &cairnv1.GroupStatus{
		Stream: st.Stream, Group: st.Group,
		Pending: uint64(st.Pending), InFlight: uint64(st.InFlight),
		Acked: st.Acked, DeadLettered: st.DeadLettered,
		NextSeq: st.NextSeq, HeadSeq: st.HeadSeq,
	}}, nil
}

func (q *queueService) ListDeadLetters(ctx context.Context, req *cairnv1.ListDeadLettersRequest) (*cairnv1.ListDeadLettersResponse, error) {
	if _, err := q.s.knownStream(ctx, req.Stream); err != nil {
		return nil, err
	}
	limit := int(req.Limit)
	switch {
	case req.Limit == 0:
		limit = defaultPage
	case req.Limit < 0 || req.Limit > maxLeaseBatch:
		return nil, invalid("limit %d is out of range: ask for 1 to %d dead letters", req.Limit, maxLeaseBatch)
	}
	dls, err := q.s.queue.DeadLetters(ctx, req.Stream, req.Group, req.FromSeq, limit)
	if err != nil {
		return nil, err
	}
	out := &cairnv1.ListDeadLettersResponse{}
	for i := range dls {
		e, err := q.s.render(ctx, &dls[i].Record, req.Profile)
		if err != nil {
			return nil, err
		}
		out.DeadLetters = append(out.DeadLetters, &cairnv1.DeadLetter{
			Entry: e, Attempts: dls[i].Attempts, LastToken: toToken(dls[i].LastToken),
			Reason: dls[i].Reason, At: timestamppb.New(dls[i].At),
		})
		out.NextSeq = dls[i].Record.Seq + 1
	}
	return out, nil
}
