package client

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/cairnlog/cairn/api"
	cairnv1 "github.com/cairnlog/cairn/api/cairnv1"
	"github.com/cairnlog/cairn/journal"
)

// RawSource lets journal.VerifyStream check a remote journal: entries come
// through Subscribe and are re-encoded to canonical bytes on the client, so
// every hash, chain link and Merkle root is recomputed here, and the signed
// checkpoint is checked against a key the caller already trusts. A server
// that altered, dropped or reordered anything fails verification.
type RawSource struct {
	Client *Client
}

var _ journal.RawSource = RawSource{}

// Head returns the stream's head as the server reports it.
func (r RawSource) Head(ctx context.Context, stream string) (journal.Head, error) {
	resp, err := r.Client.Journal.ListStreams(ctx, &cairnv1.ListStreamsRequest{})
	if err != nil {
		return journal.Head{}, err
	}
	for _, h := range resp.Streams {
		if h.Stream != stream {
			continue
		}
		out := journal.Head{Stream: h.Stream, Seq: h.Seq}
		if out.Hash, err = journal.ParseHash(h.Hash); err != nil {
			return out, fmt.Errorf("server head of %s: %w", stream, err)
		}
		if out.Root, err = journal.ParseHash(h.RootHash); err != nil {
			return out, fmt.Errorf("server head of %s: %w", stream, err)
		}
		return out, nil
	}
	return journal.Head{}, fmt.Errorf("%w: %q is not among the streams this token can read", journal.ErrUnknownStream, stream)
}

// LatestCheckpoint asks the server for a signed checkpoint at its head.
func (r RawSource) LatestCheckpoint(ctx context.Context, stream string) (journal.SignedCheckpoint, error) {
	resp, err := r.Client.Journal.GetCheckpoint(ctx, &cairnv1.GetCheckpointRequest{Stream: stream})
	if Code(err) == api.CodeNoCheckpoint {
		return journal.SignedCheckpoint{}, journal.ErrNoCheckpoint
	}
	if err != nil {
		return journal.SignedCheckpoint{}, err
	}
	c, err := journal.ParseCheckpoint(signedBody(resp.Checkpoint))
	if err != nil {
		return journal.SignedCheckpoint{}, err
	}
	return journal.SignedCheckpoint{Checkpoint: c, Note: []byte(resp.Checkpoint)}, nil
}

// signedBody is the text of a note before its signature block.
func signedBody(note string) string {
	for i := 0; i+1 < len(note); i++ {
		if note[i] == '\n' && note[i+1] == '\n' {
			return note[:i+1]
		}
	}
	return note
}

// ScanRaw streams the stream from seq from and hands each entry to fn as
// the canonical bytes re-encoded from the API fields, with the hash the
// server claims for it.
func (r RawSource) ScanRaw(ctx context.Context, stream string, from uint64, fn func(journal.RawRecord) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sub, err := r.Client.Replay.Subscribe(ctx, &cairnv1.SubscribeRequest{Stream: stream, FromSeq: from, NoFollow: true, StoredImages: true})
	if err != nil {
		return err
	}
	for {
		resp, err := sub.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, e := range resp.Entries {
			rec, err := Record(e)
			if err != nil {
				return err
			}
			b, err := journal.EntryBytes(&rec.Entry)
			if err != nil {
				return fmt.Errorf("re-encode seq %d: %w", e.Seq, err)
			}
			if err := fn(journal.RawRecord{Seq: e.Seq, EntryBytes: b, Hash: rec.Hash, HasHash: true}); err != nil {
				return err
			}
		}
	}
}
