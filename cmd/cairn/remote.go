package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	cairnv1 "github.com/cairnlog/cairn/api/cairnv1"
	"github.com/cairnlog/cairn/api/client"
)

const envToken = "CAIRN_TOKEN"

// remoteFlags select a running cairnd instead of a data dir.
type remoteFlags struct {
	server, token, caFile string
	tls                   bool
}

func (r *remoteFlags) register(f *pflag.FlagSet) {
	f.StringVar(&r.server, "server", "", "read from a running cairnd's gRPC address (host:port) instead of --data-dir")
	f.StringVar(&r.token, "token", "", "bearer token for --server (env "+envToken+")")
	f.BoolVar(&r.tls, "tls", false, "use TLS with --server")
	f.StringVar(&r.caFile, "ca-file", "", "PEM CA certificate that signed the server's certificate (implies --tls)")
}

func (r remoteFlags) dial() (*client.Client, error) {
	tok := r.token
	if tok == "" {
		tok = os.Getenv(envToken)
	}
	return client.Dial(r.server, client.Options{Token: tok, TLS: r.tls || r.caFile != "", CAFile: r.caFile})
}

// runRemoteTail prints entries streamed from cairnd's Subscribe.
func (a *app) runRemoteTail(ctx context.Context, rf remoteFlags, stream string, from, limit uint64, follow bool, p printer) error {
	c, err := rf.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	if err := p.header(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sub, err := c.Replay.Subscribe(ctx, &cairnv1.SubscribeRequest{Stream: stream, FromSeq: from, NoFollow: !follow})
	if err != nil {
		return err
	}
	printed := uint64(0)
	for limit == 0 || printed < limit {
		resp, err := sub.Recv()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, io.EOF) {
				break
			}
			return fmt.Errorf("subscribe to %s on %s: %w", stream, rf.server, err)
		}
		for _, e := range resp.Entries {
			if limit != 0 && printed >= limit {
				break
			}
			r, err := client.Record(e)
			if err != nil {
				return err
			}
			if err := p.record(&r); err != nil {
				return err
			}
			printed++
		}
		if err := p.flush(); err != nil {
			return err
		}
	}
	return p.flush()
}
