package queue

import (
	"container/heap"
	"fmt"

	"github.com/google/uuid"
)

func heapPopReady(g *grp) *item { return heap.Pop(&g.ready).(*item) }

func pushReady(g *grp, it *item) { heap.Push(&g.ready, it) }

func pushTimer(g *grp, it *item) { heap.Push(&g.timers, it) }

func fixTimer(g *grp, it *item) { heap.Fix(&g.timers, it.hidx) }

func newLeaseID() (uuid.UUID, error) {
	id, err := uuid.NewRandom()
	if err != nil {
		return uuid.Nil, fmt.Errorf("generate a lease id: %w; the system random source failed, retry", err)
	}
	return id, nil
}

// parseToken checks a token's shape and returns its lease id. Any form
// uuid.Parse accepts is taken (D, N, braces, urn), so .NET tokens round-trip.
func parseToken(t Token) (uuid.UUID, error) {
	if t.SequenceID == 0 || t.Attempt == 0 {
		return uuid.Nil, fmt.Errorf("%w: token %s has seq %d and attempt %d; both start at 1, pass the token Lease returned unchanged", ErrInvalidArgument, t, t.SequenceID, t.Attempt)
	}
	id, err := uuid.Parse(t.LeaseID)
	if err != nil || id == uuid.Nil {
		return uuid.Nil, fmt.Errorf("%w: token %s has lease id %q, which is not a UUID; pass the token Lease returned unchanged", ErrInvalidArgument, t, t.LeaseID)
	}
	return id, nil
}
