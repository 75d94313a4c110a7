package journal

import (
	"context"
	"errors"
	"runtime"
	"sync"
)

// verifyBatch is a run of records copied out of a backend scan, hashed by a
// worker and then checked in order by the sequencer.
type verifyBatch struct {
	recs   []RawRecord
	arena  []byte
	hashes []Hash
	errs   []error
	done   chan struct{}
}

const verifyBatchSize = 2048

func (b *verifyBatch) add(r RawRecord) {
	start := len(b.arena)
	b.arena = append(b.arena, r.EntryBytes...)
	b.arena = append(b.arena, r.HashPrefix...)
	c := r
	c.EntryBytes = b.arena[start : start+len(r.EntryBytes) : start+len(r.EntryBytes)]
	if r.HashPrefix != nil {
		c.HashPrefix = b.arena[start+len(r.EntryBytes) : len(b.arena) : len(b.arena)]
	}
	if r.TreeHashes != nil {
		c.TreeHashes = append([]Hash(nil), r.TreeHashes...)
	}
	b.recs = append(b.recs, c)
}

// verifyParallel feeds a backend scan through hash workers (one per core) and
// checks the results in order, so hashing runs beside the scan. The entry
// bytes are copied out of the scan because backends reuse their buffers.
func verifyParallel(ctx context.Context, src RawSource, stream string, v *Verifier, progress func(uint64)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := max(1, runtime.GOMAXPROCS(0))
	work := make(chan *verifyBatch, workers*2)
	ordered := make(chan *verifyBatch, workers*2)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				b.hashes = make([]Hash, len(b.recs))
				b.errs = make([]error, len(b.recs))
				for i, r := range b.recs {
					b.hashes[i], b.errs[i] = v.hashRecord(r)
				}
				close(b.done)
			}
		}()
	}
	seqErr := make(chan error, 1)
	go func() {
		var err error
		for b := range ordered {
			<-b.done
			if err != nil {
				continue // drain
			}
			for i, r := range b.recs {
				if err = v.addHashed(r, b.hashes[i], b.errs[i]); err != nil {
					cancel()
					break
				}
			}
			if progress != nil && err == nil {
				progress(v.Count())
			}
		}
		seqErr <- err
	}()

	newBatch := func() *verifyBatch {
		return &verifyBatch{recs: make([]RawRecord, 0, verifyBatchSize), arena: make([]byte, 0, verifyBatchSize*512), done: make(chan struct{})}
	}
	cur := newBatch()
	flush := func() bool {
		if len(cur.recs) == 0 {
			return true
		}
		select {
		case work <- cur:
		case <-ctx.Done():
			return false
		}
		ordered <- cur
		cur = newBatch()
		return true
	}
	scanErr := src.ScanRaw(ctx, stream, 1, func(r RawRecord) error {
		cur.add(r)
		if len(cur.recs) == verifyBatchSize && !flush() {
			return ctx.Err()
		}
		return nil
	})
	if scanErr == nil {
		flush()
	}
	close(work)
	wg.Wait()
	close(ordered)
	err := <-seqErr
	if err != nil {
		return err // the first mismatch wins over the cancellation it caused
	}
	if scanErr != nil && !errors.Is(scanErr, context.Canceled) {
		return scanErr
	}
	return ctx.Err()
}
