package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/cairnlog/cairn/journal"
)

// Proof documents as printed by 'cairn proof inclusion|consistency' and read
// by 'cairn proof check'. Entry hashes are hex (as tail prints them); tree
// roots and path nodes are standard base64 (as checkpoints carry roots).
// docs/cli.md describes the format.
const (
	proofTypeInclusion   = "inclusion"
	proofTypeConsistency = "consistency"
)

type inclusionJSON struct {
	Type      string   `json:"type"`
	Stream    string   `json:"stream"`
	Seq       uint64   `json:"seq"`
	TreeSize  uint64   `json:"tree_size"`
	EntryHash string   `json:"entry_hash"`
	Root      string   `json:"root"`
	Path      []string `json:"path"`
}

type consistencyJSON struct {
	Type     string   `json:"type"`
	Stream   string   `json:"stream"`
	FromSize uint64   `json:"from_size"`
	ToSize   uint64   `json:"to_size"`
	FromRoot string   `json:"from_root"`
	ToRoot   string   `json:"to_root"`
	Path     []string `json:"path"`
}

func rootBase64(h journal.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }

func pathBase64(p []journal.Hash) []string {
	out := make([]string, len(p)) // never nil: an empty path prints as []
	for i, h := range p {
		out[i] = rootBase64(h)
	}
	return out
}

func inclusionToJSON(p journal.InclusionProof) inclusionJSON {
	return inclusionJSON{Type: proofTypeInclusion, Stream: p.Stream, Seq: p.Seq, TreeSize: p.TreeSize,
		EntryHash: p.EntryHash.String(), Root: rootBase64(p.Root), Path: pathBase64(p.Path)}
}

func consistencyToJSON(p journal.ConsistencyProof) consistencyJSON {
	return consistencyJSON{Type: proofTypeConsistency, Stream: p.Stream, FromSize: p.FromSize, ToSize: p.ToSize,
		FromRoot: rootBase64(p.FromRoot), ToRoot: rootBase64(p.ToRoot), Path: pathBase64(p.Path)}
}

func (j inclusionJSON) proof() (journal.InclusionProof, error) {
	p := journal.InclusionProof{Stream: j.Stream, Seq: j.Seq, TreeSize: j.TreeSize}
	var err error
	if p.EntryHash, err = journal.ParseHash(j.EntryHash); err != nil {
		return p, fmt.Errorf("entry_hash: %w", err)
	}
	if p.Root, err = parseHashBase64("root", j.Root); err != nil {
		return p, err
	}
	p.Path, err = parsePath(j.Path)
	return p, err
}

func (j consistencyJSON) proof() (journal.ConsistencyProof, error) {
	p := journal.ConsistencyProof{Stream: j.Stream, FromSize: j.FromSize, ToSize: j.ToSize}
	var err error
	if p.FromRoot, err = parseHashBase64("from_root", j.FromRoot); err != nil {
		return p, err
	}
	if p.ToRoot, err = parseHashBase64("to_root", j.ToRoot); err != nil {
		return p, err
	}
	p.Path, err = parsePath(j.Path)
	return p, err
}

func parseHashBase64(field, s string) (journal.Hash, error) {
	var h journal.Hash
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != journal.HashSize {
		return h, fmt.Errorf("%s: %q is not a base64 SHA-256 hash", field, s)
	}
	copy(h[:], b)
	return h, nil
}

func parsePath(path []string) ([]journal.Hash, error) {
	out := make([]journal.Hash, len(path))
	for i, s := range path {
		h, err := parseHashBase64(fmt.Sprintf("path[%d]", i), s)
		if err != nil {
			return nil, err
		}
		out[i] = h
	}
	return out, nil
}

func (a *app) proofCommand() *cobra.Command {
	proof := &cobra.Command{
		Use:   "proof",
		Short: "Produce and check Merkle inclusion and consistency proofs",
		Args:  cobra.NoArgs,
		RunE:  helpOnly,
	}
	proof.AddCommand(a.proofInclusionCommand(), a.proofConsistencyCommand(), a.proofCheckCommand())
	return proof
}

func (a *app) proofInclusionCommand() *cobra.Command {
	var (
		stream   string
		seq      uint64
		treeSize uint64
	)
	cmd := &cobra.Command{
		Use:   "inclusion --data-dir DIR --stream NAME --seq N [--tree-size T]",
		Short: "Prove that an entry is in the stream's Merkle tree",
		Long: "inclusion prints a JSON proof that entry --seq is a leaf of the stream's Merkle tree of\n" +
			"--tree-size leaves (0 or omitted: the head). Check it with 'cairn proof check' against a\n" +
			"signed checkpoint of the same size.",
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command) error {
			if err := streamFlag(stream); err != nil {
				return err
			}
			if seq == 0 {
				return usageErr("--seq must be at least 1")
			}
			return a.withReadStore(cmd.Context(), stream, func(ctx context.Context, s proofSource) (any, error) {
				p, err := s.InclusionProof(ctx, stream, seq, treeSize)
				if err != nil {
					return nil, err
				}
				return inclusionToJSON(p), nil
			})
		}),
	}
	f := cmd.Flags()
	f.StringVar(&stream, "stream", "", "stream (required)")
	f.Uint64Var(&seq, "seq", 0, "seq of the entry to prove (required)")
	f.Uint64Var(&treeSize, "tree-size", 0, "tree size to prove against (0: the head)")
	_ = cmd.MarkFlagRequired("stream")
	_ = cmd.MarkFlagRequired("seq")
	return cmd
}

func (a *app) proofConsistencyCommand() *cobra.Command {
	var (
		stream   string
		fromSize uint64
		toSize   uint64
	)
	cmd := &cobra.Command{
		Use:   "consistency --data-dir DIR --stream NAME --from-size A [--to-size B]",
		Short: "Prove that an older tree is a prefix of a newer one",
		Long: "consistency prints a JSON proof that the stream's Merkle tree of --from-size leaves is a\n" +
			"prefix of the tree of --to-size leaves (0 or omitted: the head), i.e. that nothing\n" +
			"before --from-size was changed or removed since.",
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command) error {
			if err := streamFlag(stream); err != nil {
				return err
			}
			return a.withReadStore(cmd.Context(), stream, func(ctx context.Context, s proofSource) (any, error) {
				p, err := s.ConsistencyProof(ctx, stream, fromSize, toSize)
				if err != nil {
					return nil, err
				}
				return consistencyToJSON(p), nil
			})
		}),
	}
	f := cmd.Flags()
	f.StringVar(&stream, "stream", "", "stream (required)")
	f.Uint64Var(&fromSize, "from-size", 0, "size of the older tree (required)")
	f.Uint64Var(&toSize, "to-size", 0, "size of the newer tree (0: the head)")
	_ = cmd.MarkFlagRequired("stream")
	_ = cmd.MarkFlagRequired("from-size")
	return cmd
}

// proofSource is what the proof commands need from a store.
type proofSource interface {
	InclusionProof(ctx context.Context, stream string, seq, treeSize uint64) (journal.InclusionProof, error)
	ConsistencyProof(ctx context.Context, stream string, from, to uint64) (journal.ConsistencyProof, error)
}

// withReadStore opens the store read-only, checks the stream exists, and
// prints the document build returns as indented JSON.
func (a *app) withReadStore(ctx context.Context, stream string, build func(context.Context, proofSource) (any, error)) (err error) {
	s, dir, err := a.openStore(openReadOnly)
	if err != nil {
		return err
	}
	defer closeStore(s, &err)
	if _, err := requireStream(ctx, s, dir, stream); err != nil {
		return err
	}
	doc, err := build(ctx, s)
	if err != nil {
		return err
	}
	return writeJSONDoc(a.stdout, doc)
}

func writeJSONDoc(w io.Writer, doc any) error {
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encode proof: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}
