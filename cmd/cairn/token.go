package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairnlog/cairn/api"
)

func (a *app) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Make bearer tokens for cairnd's API",
		Args:  cobra.NoArgs,
		RunE:  helpOnly,
	}
	var (
		name, tenant, role string
		streams            []string
	)
	newCmd := &cobra.Command{
		Use:   "new --name NAME [--tenant T] [--role reader|consumer|producer|admin] [--streams PATTERN,...]",
		Short: "Print a new random token and its tokens-file entry",
		Long: "new prints a fresh bearer token on the first line (give it to the client; it is not stored\n" +
			"anywhere) and then the YAML entry to add under tokens: in cairnd's auth.tokens_file, which\n" +
			"holds only the token's SHA-256.",
		Args: cobra.NoArgs,
		RunE: runE(func(*cobra.Command) error {
			if strings.TrimSpace(name) == "" {
				return usageErr("--name is required (it appears in logs and permission errors)")
			}
			switch role {
			case "reader", "consumer", "producer", "admin":
			default:
				return usageErr("--role must be reader, consumer, producer or admin, got %q", role)
			}
			secret, hash, err := api.NewToken()
			if err != nil {
				return err
			}
			quoted := make([]string, len(streams))
			for i, s := range streams {
				quoted[i] = fmt.Sprintf("%q", s)
			}
			fmt.Fprintln(a.stdout, secret)
			fmt.Fprintf(a.stdout, "  - name: %q\n    sha256: %s\n    grants:\n      - {tenant: %q, streams: [%s], role: %s}\n",
				name, hash, tenant, strings.Join(quoted, ", "), role)
			return nil
		}),
	}
	f := newCmd.Flags()
	f.StringVar(&name, "name", "", "who the token is for (required)")
	f.StringVar(&tenant, "tenant", "default", `tenant whose streams the grant covers ("*" for all)`)
	f.StringVar(&role, "role", "reader", "reader, consumer, producer or admin")
	f.StringSliceVar(&streams, "streams", []string{"*"}, "stream-name patterns of the grant")
	cmd.AddCommand(newCmd)
	return cmd
}
