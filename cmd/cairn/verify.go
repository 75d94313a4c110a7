package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	cairnv1 "github.com/cairnlog/cairn/api/cairnv1"
	"github.com/cairnlog/cairn/api/client"
	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/journal/badgerstore"
)

func (a *app) verifyCommand() *cobra.Command {
	var (
		stream    string
		publicKey string
		strict    bool
		remote    remoteFlags
	)
	cmd := &cobra.Command{
		Use:   "verify (--data-dir DIR | --server HOST:PORT --public-key FILE) [--stream NAME] [--public-key FILE] [--strict]",
		Short: "Recompute every hash, chain link and Merkle node and check the signed checkpoints",
		Long: "verify reads every entry of every stream (or of --stream), recomputes its hash, the hash\n" +
			"chain and the Merkle tree, compares them with what the store recorded, and checks the latest\n" +
			"signed checkpoint with the public key (--public-key, else DIR/signing.pub). It exits 1 at the\n" +
			"first mismatch, naming the stream and seq. --strict also fully decodes every entry.\n" +
			"With --server it verifies a running cairnd through its API: entries are re-encoded and\n" +
			"re-hashed here, and the server's signed checkpoint is checked with --public-key (required:\n" +
			"a key you trust, not one the server hands out).",
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command) error {
			if stream != "" {
				if err := streamFlag(stream); err != nil {
					return err
				}
			}
			if remote.server != "" {
				return a.runRemoteVerify(cmd.Context(), remote, stream, publicKey, strict)
			}
			return a.runVerify(cmd.Context(), stream, publicKey, strict)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&stream, "stream", "", "verify only this stream (default: every stream)")
	f.StringVar(&publicKey, "public-key", "", "file with the checkpoint verifier key (default: DIR/signing.pub)")
	f.BoolVar(&strict, "strict", false, "also decode every entry fully (slower)")
	remote.register(f)
	return cmd
}

func (a *app) runVerify(ctx context.Context, stream, publicKeyFile string, strict bool) (err error) {
	s, dir, err := a.openStore(openReadOnly)
	if err != nil {
		return verifyFailed(err)
	}
	defer closeStore(s, &err)
	vkey, err := verifierKey(s, dir, publicKeyFile)
	if err != nil {
		return err
	}
	var heads []journal.Head
	if stream != "" {
		h, err := requireStream(ctx, s, dir, stream)
		if err != nil {
			return err
		}
		heads = []journal.Head{h}
	} else if heads, err = s.Streams(ctx); err != nil {
		return err
	}

	return a.verifyHeads(ctx, s, heads, vkey, strict)
}

// verifyHeads verifies each stream from src with a progress bar and prints
// the summary.
func (a *app) verifyHeads(ctx context.Context, src journal.RawSource, heads []journal.Head, vkey string, strict bool) error {
	var results []journal.VerifyResult
	total := uint64(0)
	for _, h := range heads {
		bar := a.progressBar(h)
		res, err := journal.VerifyStream(ctx, src, h.Stream, vkey, strict, bar.update)
		bar.done()
		if err != nil {
			return verifyFailed(err)
		}
		results = append(results, res)
		total += res.Entries
	}
	return printVerify(a.stdout, results, total)
}

// runRemoteVerify verifies streams served by a running cairnd.
func (a *app) runRemoteVerify(ctx context.Context, rf remoteFlags, stream, publicKeyFile string, strict bool) error {
	if publicKeyFile == "" {
		return usageErr("--server needs --public-key FILE: the checkpoint key must come from you, not from the server being verified (copy the server's signing.pub once, out of band)")
	}
	b, err := os.ReadFile(publicKeyFile)
	if err != nil {
		return fmt.Errorf("read --public-key: %w", err)
	}
	c, err := rf.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	src := client.RawSource{Client: c}
	var streams []string
	if stream != "" {
		streams = []string{stream}
	} else {
		resp, err := c.Journal.ListStreams(ctx, &cairnv1.ListStreamsRequest{})
		if err != nil {
			return err
		}
		for _, h := range resp.Streams {
			streams = append(streams, h.Stream)
		}
	}
	var heads []journal.Head
	for _, name := range streams {
		h, err := src.Head(ctx, name)
		if err != nil {
			return err
		}
		heads = append(heads, h)
	}
	return a.verifyHeads(ctx, src, heads, string(b), strict)
}

// verifyFailed marks journal damage found while verifying (or while opening
// the store for it) so the message starts with "verify failed:".
func verifyFailed(err error) error {
	var ve *journal.VerifyError
	if errors.As(err, &ve) || errors.Is(err, journal.ErrVerifyMismatch) || errors.Is(err, journal.ErrCorrupt) ||
		errors.Is(err, journal.ErrBadSignature) || errors.Is(err, journal.ErrBadCheckpoint) {
		return &exitError{code: exitFailure, err: fmt.Errorf("verify failed: %w", err)}
	}
	return err
}

// verifierKey picks the key that checks checkpoints: --public-key, then
// DIR/signing.pub, then the key derived from the store's signing key.
func verifierKey(s *badgerstore.Store, dir, file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read --public-key: %w", err)
		}
		return string(b), nil
	}
	b, err := os.ReadFile(filepath.Join(dir, "signing.pub"))
	switch {
	case err == nil:
		return string(b), nil
	case !errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("read public key: %w", err)
	}
	return s.VerifierKey(), nil
}

// printVerify writes the summary. One stream: "verified N entries, head H"
// then a checkpoint line. Several: one "stream NAME: ..." line each, then the
// total line (whose head is the last stream's).
func printVerify(w io.Writer, results []journal.VerifyResult, total uint64) error {
	var head journal.Hash
	if n := len(results); n > 0 {
		head = results[n-1].Head
	}
	var err error
	if len(results) == 1 {
		r := results[0]
		_, err = fmt.Fprintf(w, "verified %d entries, head %s\n", r.Entries, r.Head)
		if err == nil {
			_, err = fmt.Fprintf(w, "stream %s: %s\n", r.Stream, checkpointSummary(r))
		}
	} else {
		for _, r := range results {
			if _, err = fmt.Fprintf(w, "stream %s: verified %d entries, head %s, checkpoint size %d\n",
				r.Stream, r.Entries, r.Head, checkpointSize(r)); err != nil {
				break
			}
		}
		if err == nil {
			_, err = fmt.Fprintf(w, "verified %d entries, head %s\n", total, head)
		}
	}
	if err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

func checkpointSize(r journal.VerifyResult) uint64 {
	if r.Checkpoint == nil {
		return 0
	}
	return r.Checkpoint.Size
}

func checkpointSummary(r journal.VerifyResult) string {
	if r.Checkpoint == nil {
		return "checkpoint size 0 (no signed checkpoint)"
	}
	return fmt.Sprintf("checkpoint size %d, root %s", r.Checkpoint.Size, rootBase64(r.Checkpoint.Root))
}

// verifyBar shows verification progress on a terminal; it is a no-op otherwise.
type verifyBar struct{ bar *progressbar.ProgressBar }

func (a *app) progressBar(h journal.Head) verifyBar {
	f, ok := a.stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || h.Seq == 0 {
		return verifyBar{}
	}
	return verifyBar{bar: progressbar.NewOptions64(int64(h.Seq),
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription("verify "+h.Stream),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
	)}
}

func (b verifyBar) update(n uint64) {
	if b.bar != nil {
		_ = b.bar.Set64(int64(n))
	}
}

func (b verifyBar) done() {
	if b.bar != nil {
		_ = b.bar.Clear()
	}
}
