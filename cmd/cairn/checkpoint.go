package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) checkpointCommand() *cobra.Command {
	var stream string
	cmd := &cobra.Command{
		Use:   "checkpoint --data-dir DIR --stream NAME",
		Short: "Print the signed checkpoint at the stream's head",
		Long: "checkpoint prints the stream's signed checkpoint note (C2SP tlog-checkpoint text plus an\n" +
			"Ed25519 note signature) exactly as stored. When the latest signed checkpoint is older than\n" +
			"the head, a new one is signed first, so the data dir is opened read-write.",
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command) error {
			if err := streamFlag(stream); err != nil {
				return err
			}
			return a.runCheckpoint(cmd.Context(), stream)
		}),
	}
	cmd.Flags().StringVar(&stream, "stream", "", "stream whose checkpoint to print (required)")
	_ = cmd.MarkFlagRequired("stream")
	return cmd
}

func (a *app) runCheckpoint(ctx context.Context, stream string) (err error) {
	s, dir, err := a.openStore(openExisting)
	if err != nil {
		return err
	}
	defer closeStore(s, &err)
	if _, err := requireStream(ctx, s, dir, stream); err != nil {
		return err
	}
	sc, err := s.Checkpoint(ctx, stream)
	if err != nil {
		return err
	}
	if _, err := a.stdout.Write(sc.Note); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}
