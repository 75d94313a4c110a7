package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

func (a *app) keysCommand() *cobra.Command {
	keys := &cobra.Command{
		Use:   "keys",
		Short: "Show the data dir's keys",
		Args:  cobra.NoArgs,
		RunE:  helpOnly,
	}
	keys.AddCommand(&cobra.Command{
		Use:   "public --data-dir DIR",
		Short: "Print the public key that verifies the data dir's checkpoints",
		Long: "public prints the note verifier key (name+hash+base64) matching the data dir's signing\n" +
			"key. Give it to whoever checks checkpoints and proofs with 'cairn proof check'.",
		Args: cobra.NoArgs,
		RunE: runE(func(*cobra.Command) error { return a.runKeysPublic() }),
	})
	return keys
}

func (a *app) runKeysPublic() (err error) {
	s, dir, err := a.openStore(openReadOnly)
	if err != nil {
		return err
	}
	defer closeStore(s, &err)
	vkey := s.VerifierKey()
	if vkey == "" {
		b, rerr := os.ReadFile(filepath.Join(dir, "signing.pub"))
		if errors.Is(rerr, os.ErrNotExist) {
			return fmt.Errorf("data dir %s has no signing key yet (append to it once to create one)", dir)
		}
		if rerr != nil {
			return fmt.Errorf("read public key: %w", rerr)
		}
		vkey = strings.TrimSpace(string(b))
	}
	if _, err := fmt.Fprintln(a.stdout, vkey); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}
