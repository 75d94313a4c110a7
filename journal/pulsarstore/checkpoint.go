package pulsarstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/cairnlog/cairn/journal"
)

// Signed checkpoints live in a second topic per stream
// (Config.CheckpointTopic): one message per checkpoint, the signed note as
// payload, SequenceID = tree size. Only the stream's writer stores them, so
// their sizes rise; the topic's last message is the latest checkpoint, and
// the whole topic is the history of every checkpoint the journal signed.

// loadCheckpoint reads the latest stored checkpoint of st and checks it
// against the indexed head: a checkpoint larger than the journal means
// entries were lost from Pulsar.
func (s *Store) loadCheckpoint(ctx context.Context, st *stream) error {
	r, err := s.createReader(pulsar.ReaderOptions{
		Topic: st.ckptTopic, StartMessageID: pulsar.LatestMessageID(), StartMessageIDInclusive: true,
		BackoffPolicyFunc: s.backoff,
	})
	if err != nil {
		if strings.Contains(err.Error(), "TopicNotFound") || strings.Contains(err.Error(), "does not exist") {
			return nil // never checkpointed, and the broker does not create topics on reads
		}
		return fmt.Errorf("%w: open a reader on %s: %v", ErrBrokerUnreachable, st.ckptTopic, err)
	}
	defer r.Close()
	last, err := lastPosition(r)
	if err != nil || !last.valid() {
		return err
	}
	m, err := nextMessage(ctx, r, s.cfg.OperationTimeout)
	if err != nil {
		return fmt.Errorf("read the latest checkpoint of %s: %w", st.name, err)
	}
	sc, err := journal.ParseSignedCheckpoint(m.Payload())
	if err != nil {
		return fmt.Errorf("%w: %s message %s: %v", journal.ErrCorrupt, st.ckptTopic, posOf(m.ID()), err)
	}
	head := s.headOf(st)
	if sc.Size > head.Seq {
		// A writer on another node may have appended and checkpointed after
		// this node's scan of the topic. A checkpoint is stored only after
		// every entry it covers was acknowledged, so reading on must reach
		// it unless entries are really gone.
		if err := s.catchUp(ctx, st); err != nil {
			return err
		}
		head = s.headOf(st)
	}
	if sc.Size > head.Seq {
		return fmt.Errorf("%w: stream %s: the latest signed checkpoint covers %d entries but topic %s ends at seq %d, so seq %d to %d were lost from Pulsar; "+
			"refusing to write, because new appends would reuse their seqs. Restore the topic", journal.ErrCorrupt, st.name, sc.Size, st.topic, head.Seq, head.Seq+1, sc.Size)
	}
	if _, err := journal.OpenCheckpoint(sc.Note, s.vkey); err != nil {
		s.log.Warn("the latest stored checkpoint does not verify with this node's key (do all nodes share signing_key_file?)", "stream", st.name, "size", sc.Size, "err", err)
	}
	if sc.Size == head.Seq {
		if root := s.rootAt(st, sc.Size); root != sc.Root {
			return fmt.Errorf("%w: stream %s: the signed checkpoint at size %d has root %s, the topic's entries give %s", journal.ErrCorrupt, st.name, sc.Size, sc.Root, root)
		}
	}
	s.setCheckpoint(st, sc)
	return nil
}

func (s *Store) rootAt(st *stream, size uint64) journal.Hash {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if st.head.seq != size {
		return journal.Hash{}
	}
	return st.cr.Root()
}

// setCheckpoint publishes sc as the latest checkpoint unless a larger one is known.
func (s *Store) setCheckpoint(st *stream, sc journal.SignedCheckpoint) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.ckpt == nil || sc.Size > st.ckpt.Size {
		st.ckpt = &sc
	}
}

// sign signs a checkpoint at the published head (which it returns).
func (s *Store) sign(st *stream) (journal.SignedCheckpoint, *journal.SignedCheckpoint, error) {
	s.mu.RLock()
	size, root, latest := st.head.seq, st.cr.Root(), st.ckpt
	s.mu.RUnlock()
	if size == 0 {
		return journal.SignedCheckpoint{}, nil, fmt.Errorf("%w: %q", journal.ErrUnknownStream, st.name)
	}
	if latest != nil && latest.Size >= size {
		return *latest, latest, nil
	}
	sc, err := journal.SignCheckpoint(journal.Checkpoint{Origin: journal.Origin(s.cfg.LogName, st.name), Size: size, Root: root}, s.signer)
	return sc, nil, err
}

func (w *writer) checkpointProducer() (pulsar.Producer, error) {
	if w.ckptProd != nil {
		return w.ckptProd, nil
	}
	p, err := w.client.CreateProducer(pulsar.ProducerOptions{
		Topic:             w.st.ckptTopic,
		DisableBatching:   true,
		SendTimeout:       w.s.cfg.OperationTimeout,
		BackOffPolicyFunc: w.s.backoff,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: checkpoint producer on %s: %v", ErrBrokerUnreachable, w.st.ckptTopic, err)
	}
	w.ckptProd = p
	return p, nil
}

func checkpointMessage(sc journal.SignedCheckpoint) *pulsar.ProducerMessage {
	size := int64(sc.Size)
	return &pulsar.ProducerMessage{Payload: sc.Note, SequenceID: &size, EventTime: time.Now()}
}

// checkpoint signs a checkpoint at the durable head and stores it, unless
// the latest stored one is there already. Acker-owned (or after it ended).
func (w *writer) checkpoint(ctx context.Context) (journal.SignedCheckpoint, error) {
	sc, latest, err := w.s.sign(w.st)
	if err != nil || latest != nil {
		return sc, err
	}
	p, err := w.checkpointProducer()
	if err != nil {
		return journal.SignedCheckpoint{}, err
	}
	if _, err := p.Send(ctx, checkpointMessage(sc)); err != nil {
		return journal.SignedCheckpoint{}, fmt.Errorf("store checkpoint of %s at size %d in %s: %w", w.st.name, sc.Size, w.st.ckptTopic, err)
	}
	w.s.setCheckpoint(w.st, sc)
	w.ckptAt = time.Now()
	return sc, nil
}

// autoCheckpoint stores a checkpoint at the head without waiting for it.
func (w *writer) autoCheckpoint() {
	w.ckptAt = time.Now()
	sc, latest, err := w.s.sign(w.st)
	if err != nil || latest != nil {
		return
	}
	p, err := w.checkpointProducer()
	if err != nil {
		w.s.log.Warn("automatic checkpoint", "stream", w.st.name, "err", err)
		return
	}
	p.SendAsync(context.Background(), checkpointMessage(sc), func(_ pulsar.MessageID, _ *pulsar.ProducerMessage, err error) {
		if err != nil {
			w.s.log.Warn("automatic checkpoint not stored", "stream", w.st.name, "size", sc.Size, "err", err)
			return
		}
		w.s.setCheckpoint(w.st, sc)
	})
}

// Checkpoint returns a signed checkpoint at the current head, signing and
// storing a new one if the latest is older. On a node that does not write
// the stream, a new checkpoint is signed but not stored (only the writer
// stores checkpoints).
func (s *Store) Checkpoint(ctx context.Context, stream string) (journal.SignedCheckpoint, error) {
	st, _, err := s.lookup(ctx, stream)
	if err != nil {
		return journal.SignedCheckpoint{}, err
	}
	s.mu.RLock()
	w := st.w
	s.mu.RUnlock()
	if w != nil && w.err() == nil {
		req := &request{ckpt: true, done: make(chan error, 1)}
		if err := w.submit(ctx, req); err == nil {
			return req.sc, nil
		} else if w.err() == nil {
			return journal.SignedCheckpoint{}, err
		}
	}
	sc, _, err := s.sign(st)
	return sc, err
}

// LatestCheckpoint returns the latest stored signed checkpoint of stream.
func (s *Store) LatestCheckpoint(ctx context.Context, stream string) (journal.SignedCheckpoint, error) {
	st, _, err := s.lookup(ctx, stream)
	if err != nil {
		return journal.SignedCheckpoint{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if st.ckpt == nil {
		return journal.SignedCheckpoint{}, fmt.Errorf("%w for stream %s yet (run cairn checkpoint, or append and close the store)", journal.ErrNoCheckpoint, stream)
	}
	return *st.ckpt, nil
}
