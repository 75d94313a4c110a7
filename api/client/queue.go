package client

import (
	"context"
	"time"

	cairnv1 "github.com/cairnlog/cairn/api/cairnv1"
)

// Group is a handle on one consumer group of one stream, for workers.
type Group struct {
	Client *Client
	Stream string
	Name   string
	// Lease is the lease length asked for (0: the server's default, 30 s).
	LeaseTime time.Duration
}

// Group returns a handle on a consumer group.
func (c *Client) Group(stream, name string) *Group {
	return &Group{Client: c, Stream: stream, Name: name}
}

// Lease takes up to max entries, waiting up to wait for one to become
// available. Entries with the same key are never leased while an earlier
// one is unfinished, so a worker may process a batch in order.
func (g *Group) Lease(ctx context.Context, max int, wait time.Duration) ([]*cairnv1.Lease, error) {
	resp, err := g.Client.Queue.Lease(ctx, &cairnv1.LeaseRequest{
		Stream: g.Stream, Group: g.Name, Max: int32(max),
		LeaseSeconds: int32(g.LeaseTime / time.Second), WaitSeconds: int32(wait / time.Second),
	})
	if err != nil {
		return nil, err
	}
	return resp.Leases, nil
}

func tokens(ls []*cairnv1.Lease) []*cairnv1.LeaseToken {
	out := make([]*cairnv1.LeaseToken, len(ls))
	for i, l := range ls {
		out[i] = l.Token
	}
	return out
}

// Ack settles leases as done. Leases that were no longer active (expired,
// re-leased) come back in Rejected; their work may have been done twice.
func (g *Group) Ack(ctx context.Context, leases ...*cairnv1.Lease) (*cairnv1.Settled, error) {
	resp, err := g.Client.Queue.Ack(ctx, &cairnv1.AckRequest{Stream: g.Stream, Group: g.Name, Tokens: tokens(leases)})
	if err != nil {
		return nil, err
	}
	return resp.Settled, nil
}

// Nack hands leases back for redelivery after delay (attempt + 1; dead
// letter after the group's max attempts).
func (g *Group) Nack(ctx context.Context, delay time.Duration, leases ...*cairnv1.Lease) (*cairnv1.Settled, error) {
	resp, err := g.Client.Queue.Nack(ctx, &cairnv1.NackRequest{Stream: g.Stream, Group: g.Name, Tokens: tokens(leases), DelaySeconds: int32(delay / time.Second)})
	if err != nil {
		return nil, err
	}
	return resp.Settled, nil
}

// Extend pushes the leases' deadlines to now + the group's lease length.
func (g *Group) Extend(ctx context.Context, leases ...*cairnv1.Lease) (*cairnv1.Settled, error) {
	resp, err := g.Client.Queue.Extend(ctx, &cairnv1.ExtendRequest{Stream: g.Stream, Group: g.Name, Tokens: tokens(leases), LeaseSeconds: int32(g.LeaseTime / time.Second)})
	if err != nil {
		return nil, err
	}
	return resp.Settled, nil
}
