package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/replay/state"
)

// Sentinel errors of named subscription checkpoints.
var (
	// ErrHashMismatch refuses a checkpoint whose hash is not the journal's
	// hash at that seq: the consumer is on a forked or different history.
	ErrHashMismatch = errors.New("checkpoint hash does not match the journal")
	// ErrNoSubscription is returned for a subscription that has no checkpoint.
	ErrNoSubscription = errors.New("no such subscription")
)

// subscriptionNameRE follows the stream name rules (journal.ValidateStreamName).
var subscriptionNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ValidateSubscriptionName checks a subscription name: 1 to 128 letters,
// digits, '.', '_' and '-', starting with a letter or digit (the rules of
// stream names). A bad name is an ErrInvalidArgument.
func ValidateSubscriptionName(name string) error {
	if !subscriptionNameRE.MatchString(name) {
		return fmt.Errorf("%w: subscription name %q (use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit)", ErrInvalidArgument, name)
	}
	return nil
}

func validateStream(stream string) error {
	if err := journal.ValidateStreamName(stream); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	return nil
}

// Checkpoint is a named subscription's committed position: every entry up
// to and including Seq has been processed; Hash is the journal's hash of
// entry Seq, so the position names one history.
type Checkpoint struct {
	Stream    string
	Name      string
	Seq       uint64
	Hash      journal.Hash
	UpdatedAt time.Time
	// Rewinds counts the commits that moved the checkpoint backwards;
	// LastRewind describes the latest (nil if it never moved back). A commit
	// that rewinds returns LastRewind.At == UpdatedAt.
	Rewinds    uint64
	LastRewind *Rewind
}

// Rewind records a commit that moved a checkpoint backwards.
type Rewind struct {
	From, To uint64 // the seq before and after
	At       time.Time
}

// Checkpoints stores named subscription checkpoints in the state store,
// under "sub/<stream>/<name>", one JSON value each. Commits are checked
// against the journal. Safe for concurrent use; commits of one process are
// serialised (the state store is opened by one process).
type Checkpoints struct {
	store journal.Store
	st    *state.DB
	now   func() time.Time
	mu    sync.Mutex
}

// NewCheckpoints returns the checkpoints of store's streams kept in st.
func NewCheckpoints(store journal.Store, st *state.DB) *Checkpoints {
	return &Checkpoints{store: store, st: st, now: time.Now}
}

const subPrefix = "sub/"

func subKey(stream, name string) []byte { return []byte(subPrefix + stream + "/" + name) }

// checkpointValue is the stored form (the key holds stream and name).
type checkpointValue struct {
	Seq        uint64       `json:"seq"`
	Hash       string       `json:"hash"`
	UpdatedAt  time.Time    `json:"updated_at"`
	Rewinds    uint64       `json:"rewinds,omitempty"`
	LastRewind *rewindValue `json:"last_rewind,omitempty"`
}

type rewindValue struct {
	From uint64    `json:"from"`
	To   uint64    `json:"to"`
	At   time.Time `json:"at"`
}

func encodeCheckpoint(cp Checkpoint) ([]byte, error) {
	v := checkpointValue{Seq: cp.Seq, Hash: cp.Hash.String(), UpdatedAt: cp.UpdatedAt.UTC(), Rewinds: cp.Rewinds}
	if cp.LastRewind != nil {
		v.LastRewind = &rewindValue{From: cp.LastRewind.From, To: cp.LastRewind.To, At: cp.LastRewind.At.UTC()}
	}
	return json.Marshal(v)
}

func decodeCheckpoint(stream, name string, b []byte) (Checkpoint, error) {
	var v checkpointValue
	if err := json.Unmarshal(b, &v); err != nil {
		return Checkpoint{}, fmt.Errorf("subscription %s/%s: stored checkpoint does not decode: %w", stream, name, err)
	}
	h, err := journal.ParseHash(v.Hash)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("subscription %s/%s: stored checkpoint: %w", stream, name, err)
	}
	cp := Checkpoint{Stream: stream, Name: name, Seq: v.Seq, Hash: h, UpdatedAt: v.UpdatedAt, Rewinds: v.Rewinds}
	if v.LastRewind != nil {
		cp.LastRewind = &Rewind{From: v.LastRewind.From, To: v.LastRewind.To, At: v.LastRewind.At}
	}
	return cp, nil
}

// Commit moves subscription name of stream to (seq, hash) and returns the
// stored checkpoint. It refuses seq 0 or a bad name (ErrInvalidArgument), a
// stream never appended to (journal.ErrUnknownStream), a seq past the head
// (ErrBeyondHead) and a hash that is not the journal's hash at seq
// (ErrHashMismatch). Committing an earlier seq than the stored one is a
// rewind: it is allowed and counted in Rewinds and LastRewind.
func (c *Checkpoints) Commit(ctx context.Context, stream, name string, seq uint64, hash journal.Hash) (Checkpoint, error) {
	if err := validateStream(stream); err != nil {
		return Checkpoint{}, err
	}
	if err := ValidateSubscriptionName(name); err != nil {
		return Checkpoint{}, err
	}
	if seq == 0 {
		return Checkpoint{}, fmt.Errorf("%w: subscription %s/%s: seq 0: a checkpoint names a processed entry, and seqs start at 1", ErrInvalidArgument, stream, name)
	}
	if err := ctx.Err(); err != nil {
		return Checkpoint{}, err
	}
	head, err := c.store.Head(ctx, stream)
	if err != nil {
		return Checkpoint{}, err
	}
	if seq > head.Seq {
		return Checkpoint{}, beyondHead(stream, seq, head.Seq)
	}
	have := head.Hash
	if seq != head.Seq {
		recs, err := c.store.Read(ctx, stream, seq, 1)
		if err != nil {
			return Checkpoint{}, fmt.Errorf("subscription %s/%s: read seq %d: %w", stream, name, seq, err)
		}
		if len(recs) != 1 || recs[0].Seq != seq {
			return Checkpoint{}, fmt.Errorf("%w: stream %s: seq %d is below the head %d but cannot be read", journal.ErrCorrupt, stream, seq, head.Seq)
		}
		have = recs[0].Hash
	}
	if have != hash {
		return Checkpoint{}, fmt.Errorf("%w: stream %s, subscription %s: the journal has hash %s at seq %d, the consumer sent %s: "+
			"the consumer is on a forked or different history (another journal, or one rebuilt or restored); "+
			"do not commit: rebuild the consumer's state from a position this journal confirms (its current checkpoint, or seq 1)",
			ErrHashMismatch, stream, name, have, seq, hash)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	key := subKey(stream, name)
	old, err := c.st.Get(key)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("subscription %s/%s: %w", stream, name, err)
	}
	cp := Checkpoint{Stream: stream, Name: name, Seq: seq, Hash: hash, UpdatedAt: c.now().UTC()}
	if old != nil {
		prev, err := decodeCheckpoint(stream, name, old)
		if err != nil {
			return Checkpoint{}, err
		}
		cp.Rewinds, cp.LastRewind = prev.Rewinds, prev.LastRewind
		if seq < prev.Seq {
			cp.Rewinds++
			cp.LastRewind = &Rewind{From: prev.Seq, To: seq, At: cp.UpdatedAt}
		}
	}
	b, err := encodeCheckpoint(cp)
	if err != nil {
		return Checkpoint{}, err
	}
	if err := c.st.Update([]state.KV{{Key: key, Value: b}}, nil); err != nil {
		return Checkpoint{}, fmt.Errorf("subscription %s/%s: %w", stream, name, err)
	}
	return cp, nil
}

// Get returns the checkpoint of subscription name of stream, or
// ErrNoSubscription.
func (c *Checkpoints) Get(ctx context.Context, stream, name string) (Checkpoint, error) {
	if err := validateStream(stream); err != nil {
		return Checkpoint{}, err
	}
	if err := ValidateSubscriptionName(name); err != nil {
		return Checkpoint{}, err
	}
	if err := ctx.Err(); err != nil {
		return Checkpoint{}, err
	}
	b, err := c.st.Get(subKey(stream, name))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("subscription %s/%s: %w", stream, name, err)
	}
	if b == nil {
		return Checkpoint{}, fmt.Errorf("%w: %s on stream %s (commit a checkpoint to create it)", ErrNoSubscription, name, stream)
	}
	return decodeCheckpoint(stream, name, b)
}

// List returns every checkpoint of stream, ordered by name.
func (c *Checkpoints) List(ctx context.Context, stream string) ([]Checkpoint, error) {
	if err := validateStream(stream); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	prefix := []byte(subPrefix + stream + "/")
	var out []Checkpoint
	err := c.st.Scan(prefix, func(key, value []byte) error {
		cp, err := decodeCheckpoint(stream, string(key[len(prefix):]), value)
		if err != nil {
			return err
		}
		out = append(out, cp)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("subscriptions of %s: %w", stream, err)
	}
	return out, nil
}

// Delete removes subscription name of stream (ErrNoSubscription if absent).
func (c *Checkpoints) Delete(ctx context.Context, stream, name string) error {
	if _, err := c.Get(ctx, stream, name); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.st.Update(nil, [][]byte{subKey(stream, name)}); err != nil {
		return fmt.Errorf("subscription %s/%s: %w", stream, name, err)
	}
	return nil
}
