// Package client is the Go client for cairnd's gRPC API: dialing with a
// bearer token and TLS, a subscriber that reconnects and resumes from where
// it was, and helpers for consumer-group leases.
package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/cairnlog/cairn/api"
	cairnv1 "github.com/cairnlog/cairn/api/cairnv1"
	"github.com/cairnlog/cairn/journal"
)

// Options configure Dial.
type Options struct {
	// Token is the bearer token ("" when the server runs auth.mode: none).
	Token string
	// TLS turns on TLS. CAFile (PEM) replaces the system roots, for a
	// server with a private CA.
	TLS    bool
	CAFile string
	// ServerName overrides the name checked in the server certificate.
	ServerName string
}

// Client is a connection to cairnd with one stub per service.
type Client struct {
	conn    *grpc.ClientConn
	Journal cairnv1.JournalServiceClient
	Replay  cairnv1.ReplayServiceClient
	Queue   cairnv1.QueueServiceClient
	Schemas cairnv1.SchemaServiceClient
}

type bearer struct {
	token  string
	secure bool
}

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

func (b bearer) RequireTransportSecurity() bool { return b.secure }

// Dial connects to a cairnd gRPC address (host:port). The connection is
// made lazily; the first call reports an unreachable server.
func Dial(addr string, opt Options) (*Client, error) {
	var dopts []grpc.DialOption
	if opt.TLS {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: opt.ServerName}
		if opt.CAFile != "" {
			pem, err := os.ReadFile(opt.CAFile)
			if err != nil {
				return nil, fmt.Errorf("read CA file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("CA file %s holds no PEM certificate", opt.CAFile)
			}
			cfg.RootCAs = pool
		}
		dopts = append(dopts, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	} else {
		dopts = append(dopts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	if opt.Token != "" {
		dopts = append(dopts, grpc.WithPerRPCCredentials(bearer{token: opt.Token, secure: opt.TLS}))
	}
	dopts = append(dopts, grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)),
		// Large windows so a subscription's batches are not paced by
		// flow-control round trips.
		grpc.WithInitialWindowSize(8<<20), grpc.WithInitialConnWindowSize(16<<20),
		grpc.WithReadBufferSize(256<<10))
	conn, err := grpc.NewClient(addr, dopts...)
	if err != nil {
		return nil, fmt.Errorf("dial cairnd at %s: %w", addr, err)
	}
	return &Client{
		conn:    conn,
		Journal: cairnv1.NewJournalServiceClient(conn),
		Replay:  cairnv1.NewReplayServiceClient(conn),
		Queue:   cairnv1.NewQueueServiceClient(conn),
		Schemas: cairnv1.NewSchemaServiceClient(conn),
	}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Code returns the API error catalog code of an error from a call (""
// when it is not one of Cairn's).
func Code(err error) api.Code { return api.CodeFromStatus(err) }

// Handler receives delivered entries in seq order, one batch at a time.
// Returning an error stops the subscription with that error; the batch is
// not checkpointed.
type Handler func(ctx context.Context, entries []*cairnv1.Entry) error

// Subscriber follows a stream and survives server restarts: after a
// dropped connection it reconnects with backoff and resumes right after the
// last entry it handed to the handler, so there is no gap and no duplicate.
// With a Name it commits (seq, hash) after every handled batch, so a new
// process resumes from the checkpoint.
type Subscriber struct {
	Client *Client
	// Request is the subscription (stream, filters, name, from_seq...).
	Request *cairnv1.SubscribeRequest
	// MaxBackoff caps the wait between reconnects (default 5 s).
	MaxBackoff time.Duration
	// OnReconnect, if set, is told about each reconnect and why.
	OnReconnect func(err error, attempt int)

	last uint64
}

// Last is the seq of the last entry handed to the handler (0 before any).
func (s *Subscriber) Last() uint64 { return s.last }

// retryable says whether a subscription error is worth a reconnect.
func retryable(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.Aborted, codes.Internal, codes.Unknown, codes.DeadlineExceeded, codes.ResourceExhausted:
		return api.CodeFromStatus(err) != api.CodeHashMismatch
	}
	return false
}

// Run subscribes until ctx ends (returning ctx.Err()), the handler fails,
// the server rejects the request, or a no_follow subscription reaches the
// head (returning nil).
func (s *Subscriber) Run(ctx context.Context, h Handler) error {
	if s.MaxBackoff == 0 {
		s.MaxBackoff = 5 * time.Second
	}
	backoff := 50 * time.Millisecond
	attempt := 0
	for {
		req := proto.Clone(s.Request).(*cairnv1.SubscribeRequest)
		if s.last > 0 {
			req.FromSeq = s.last + 1
		}
		err := s.once(ctx, req, h)
		if err == nil || ctx.Err() != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return nil
		}
		var he handlerError
		if errors.As(err, &he) || !retryable(err) {
			if errors.As(err, &he) {
				return he.err
			}
			return err
		}
		attempt++
		if s.OnReconnect != nil {
			s.OnReconnect(err, attempt)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, s.MaxBackoff)
	}
}

type handlerError struct{ err error }

func (h handlerError) Error() string { return h.err.Error() }

func (s *Subscriber) once(ctx context.Context, req *cairnv1.SubscribeRequest, h Handler) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := s.Client.Replay.Subscribe(ctx, req)
	if err != nil {
		return err
	}
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(resp.Entries) == 0 {
			continue
		}
		if err := h(ctx, resp.Entries); err != nil {
			return handlerError{err}
		}
		lastEntry := resp.Entries[len(resp.Entries)-1]
		s.last = lastEntry.Seq
		if req.Subscription != "" {
			_, err := s.Client.Replay.CommitCheckpoint(ctx, &cairnv1.CommitCheckpointRequest{
				Stream: req.Stream, Name: req.Subscription, Seq: lastEntry.Seq, Hash: lastEntry.Hash,
			})
			if err != nil {
				return err
			}
		}
	}
}

// Record converts an API entry back to a journal record (for printing and
// for verifying entries against proofs on the client side).
func Record(e *cairnv1.Entry) (journal.Record, error) {
	var r journal.Record
	h, err := journal.ParseHash(e.Hash)
	if err != nil {
		return r, fmt.Errorf("entry %d: %w", e.Seq, err)
	}
	ph, err := journal.ParseHash(e.PrevHash)
	if err != nil {
		return r, fmt.Errorf("entry %d: %w", e.Seq, err)
	}
	k, err := journal.ParseKind(e.Kind)
	if err != nil {
		return r, fmt.Errorf("entry %d: %w", e.Seq, err)
	}
	var op journal.Op
	if e.Op != "" {
		if op, err = journal.ParseOp(e.Op); err != nil {
			return r, fmt.Errorf("entry %d: %w", e.Seq, err)
		}
	}
	r = journal.Record{Hash: h, Entry: journal.Entry{
		Stream: e.Stream, Seq: e.Seq, PrevHash: ph, Kind: k, SourceID: e.SourceId, SourcePosition: e.SourcePosition,
		TxID: e.TxId, Table: e.Table, Op: op, Key: e.Key, SchemaFingerprint: e.SchemaFingerprint,
		ProducerID: e.ProducerId, ProducerSeq: e.ProducerSeq, Payload: e.Payload, Metadata: e.Metadata,
	}}
	switch {
	case len(e.StoredBefore) > 0:
		r.Before = e.StoredBefore
	case e.Before != "":
		r.Before = []byte(e.Before)
	}
	switch {
	case len(e.StoredAfter) > 0:
		r.After = e.StoredAfter
	case e.After != "":
		r.After = []byte(e.After)
	}
	if e.CommitTime != nil {
		r.CommitTime = e.CommitTime.AsTime()
	}
	if e.RecordedAt != nil {
		r.RecordedAt = e.RecordedAt.AsTime()
	}
	return r, nil
}

// Conn is the underlying connection, for other services on the same server
// (health, reflection).
func (c *Client) Conn() *grpc.ClientConn { return c.conn }
