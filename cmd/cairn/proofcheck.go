package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairnlog/cairn/journal"
)

func (a *app) proofCheckCommand() *cobra.Command {
	var proofFile, ckptFile, keyFile, oldCkptFile string
	cmd := &cobra.Command{
		Use:   "check --proof FILE --checkpoint FILE --public-key FILE [--old-checkpoint FILE]",
		Short: "Check a proof against signed checkpoints, offline",
		Long: "check verifies the checkpoint's signature with the public key, then checks the proof\n" +
			"against it: an inclusion proof must be for the checkpoint's tree size and root; a\n" +
			"consistency proof must end at the checkpoint's size and root and, with --old-checkpoint\n" +
			"(verified with the same key), start at the old checkpoint's size and root. No data dir\n" +
			"is needed. Exit 0 prints 'proof OK: ...'; any failure exits 1.",
		Args: cobra.NoArgs,
		RunE: runE(func(*cobra.Command) error {
			return a.runProofCheck(proofFile, ckptFile, keyFile, oldCkptFile)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&proofFile, "proof", "-", "proof JSON file ('-': stdin)")
	f.StringVar(&ckptFile, "checkpoint", "", "signed checkpoint note the proof must match (required)")
	f.StringVar(&keyFile, "public-key", "", "file with the verifier key of the checkpoints (required)")
	f.StringVar(&oldCkptFile, "old-checkpoint", "", "older signed checkpoint a consistency proof must start from")
	_ = cmd.MarkFlagRequired("checkpoint")
	_ = cmd.MarkFlagRequired("public-key")
	return cmd
}

func checkFailed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errProofCheck, fmt.Sprintf(format, args...))
}

func (a *app) runProofCheck(proofFile, ckptFile, keyFile, oldCkptFile string) error {
	proofBytes, err := a.readInput(proofFile)
	if err != nil {
		return fmt.Errorf("read --proof: %w", err)
	}
	key, err := os.ReadFile(keyFile)
	if err != nil {
		return fmt.Errorf("read --public-key: %w", err)
	}
	ckpt, err := openCheckpointFile("--checkpoint", ckptFile, string(key))
	if err != nil {
		return err
	}

	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(proofBytes, &head); err != nil {
		return checkFailed("proof is not a JSON object: %v", err)
	}
	switch head.Type {
	case proofTypeInclusion:
		if oldCkptFile != "" {
			return usageErr("--old-checkpoint only applies to consistency proofs")
		}
		var j inclusionJSON
		if err := decodeStrict(proofBytes, &j); err != nil {
			return checkFailed("inclusion proof: %v", err)
		}
		return a.checkInclusion(j, ckpt)
	case proofTypeConsistency:
		var j consistencyJSON
		if err := decodeStrict(proofBytes, &j); err != nil {
			return checkFailed("consistency proof: %v", err)
		}
		var old *journal.Checkpoint
		if oldCkptFile != "" {
			c, err := openCheckpointFile("--old-checkpoint", oldCkptFile, string(key))
			if err != nil {
				return err
			}
			old = &c
		}
		return a.checkConsistency(j, ckpt, old)
	default:
		return checkFailed("unknown proof type %q (want %q or %q)", head.Type, proofTypeInclusion, proofTypeConsistency)
	}
}

func (a *app) checkInclusion(j inclusionJSON, c journal.Checkpoint) error {
	p, err := j.proof()
	if err != nil {
		return checkFailed("inclusion proof: %v", err)
	}
	if err := sameLog(c, p.Stream, "--checkpoint"); err != nil {
		return err
	}
	if p.TreeSize != c.Size {
		return checkFailed("the proof is for tree size %d but the checkpoint is for size %d", p.TreeSize, c.Size)
	}
	if p.Root != c.Root {
		return checkFailed("the proof's root %s is not the checkpoint's root %s", rootBase64(p.Root), rootBase64(c.Root))
	}
	if err := p.Verify(); err != nil {
		return checkFailed("%v", err)
	}
	_, err = fmt.Fprintf(a.stdout, "proof OK: seq %d (entry hash %s) is in stream %s at tree size %d, root %s\n",
		p.Seq, p.EntryHash, p.Stream, p.TreeSize, rootBase64(p.Root))
	return err
}

func (a *app) checkConsistency(j consistencyJSON, c journal.Checkpoint, old *journal.Checkpoint) error {
	p, err := j.proof()
	if err != nil {
		return checkFailed("consistency proof: %v", err)
	}
	if err := sameLog(c, p.Stream, "--checkpoint"); err != nil {
		return err
	}
	if p.ToSize != c.Size {
		return checkFailed("the proof ends at tree size %d but the checkpoint is for size %d", p.ToSize, c.Size)
	}
	if p.ToRoot != c.Root {
		return checkFailed("the proof's to_root %s is not the checkpoint's root %s", rootBase64(p.ToRoot), rootBase64(c.Root))
	}
	if old != nil {
		if err := sameLog(*old, p.Stream, "--old-checkpoint"); err != nil {
			return err
		}
		if p.FromSize != old.Size {
			return checkFailed("the proof starts at tree size %d but the old checkpoint is for size %d", p.FromSize, old.Size)
		}
		if p.FromRoot != old.Root {
			return checkFailed("the proof's from_root %s is not the old checkpoint's root %s", rootBase64(p.FromRoot), rootBase64(old.Root))
		}
	}
	if err := p.Verify(); err != nil {
		return checkFailed("%v", err)
	}
	_, err = fmt.Fprintf(a.stdout, "proof OK: stream %s tree size %d (root %s) is a prefix of tree size %d (root %s)\n",
		p.Stream, p.FromSize, rootBase64(p.FromRoot), p.ToSize, rootBase64(p.ToRoot))
	return err
}

// sameLog checks that checkpoint c was signed for stream: its origin line is
// "<log name>/<stream>".
func sameLog(c journal.Checkpoint, stream, flag string) error {
	if stream == "" || !strings.HasSuffix(c.Origin, "/"+stream) {
		return checkFailed("%s is for log %q, not for stream %q", flag, c.Origin, stream)
	}
	return nil
}

func openCheckpointFile(flag, path, key string) (journal.Checkpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return journal.Checkpoint{}, fmt.Errorf("read %s: %w", flag, err)
	}
	c, err := journal.OpenCheckpoint(b, key)
	if err != nil {
		return c, checkFailed("%s %s: %v", flag, path, err)
	}
	return c, nil
}

// decodeStrict decodes one JSON document, refusing unknown fields and trailing data.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON document")
	}
	return nil
}

// readInput reads a named file, or stdin for "-".
func (a *app) readInput(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(a.stdin)
	}
	return os.ReadFile(path)
}
