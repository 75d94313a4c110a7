package capture

import (
	"context"
	"sync"

	"github.com/cairnlog/cairn/journal"
)

// Queue carries decoded entries from a source's reader goroutine to Next.
// Entries are gathered into batches of at most maxBatch and handed over
// whole, never copied; when maxBuffered entries wait, Push blocks, which
// pauses the reader and so the server (TCP backpressure). A reader failure
// is delivered after the entries queued before it.
type Queue struct {
	maxBatch, maxBatches int

	mu      sync.Mutex
	batches [][]journal.Entry // full batches, oldest first
	cur     []journal.Entry   // the batch being filled
	err     error
	ready   chan struct{} // cap 1: entries or an error are waiting
	space   chan struct{} // cap 1: a batch was taken
}

// NewQueue makes a queue of batches of at most maxBatch entries, holding at
// most about maxBuffered entries.
func NewQueue(maxBatch, maxBuffered int) *Queue {
	return &Queue{
		maxBatch: maxBatch, maxBatches: max(1, maxBuffered/maxBatch),
		ready: make(chan struct{}, 1), space: make(chan struct{}, 1),
	}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Push appends one entry, waiting while the queue is full.
func (q *Queue) Push(ctx context.Context, e journal.Entry) error {
	for {
		q.mu.Lock()
		if len(q.cur) == q.maxBatch && len(q.batches) < q.maxBatches {
			q.batches = append(q.batches, q.cur)
			q.cur = nil
		}
		if len(q.cur) < q.maxBatch {
			if q.cur == nil {
				q.cur = make([]journal.Entry, 0, q.maxBatch)
			}
			q.cur = append(q.cur, e)
			q.mu.Unlock()
			signal(q.ready)
			return nil
		}
		q.mu.Unlock()
		select {
		case <-q.space:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Fail records the reader's error; Next returns it once the queue is empty.
func (q *Queue) Fail(err error) {
	if err == nil {
		return
	}
	q.mu.Lock()
	if q.err == nil {
		q.err = err
	}
	q.mu.Unlock()
	signal(q.ready)
}

// Next returns the oldest batch, waiting for one.
func (q *Queue) Next(ctx context.Context) ([]journal.Entry, error) {
	for {
		q.mu.Lock()
		var out []journal.Entry
		switch {
		case len(q.batches) > 0:
			out = q.batches[0]
			q.batches[0] = nil
			q.batches = q.batches[1:]
		case len(q.cur) > 0:
			out, q.cur = q.cur, nil
		}
		err := q.err
		q.mu.Unlock()
		if out != nil {
			signal(q.space)
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		select {
		case <-q.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
