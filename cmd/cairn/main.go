package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and failed (including verification mismatches)
	exitUsage   = 2 // bad flags or arguments
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// app carries what every command shares: its I/O, the environment and the
// common flags. It replaces package-level state.
type app struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	log    *slog.Logger

	// common flags
	dataDir string
	keyFile string
}

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	a := &app{
		stdin:  stdin,
		stdout: stdout,
		stderr: stderr,
		getenv: getenv,
		log:    slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	code := exitUsage // errors cobra raises itself (unknown flag, missing required flag) are usage errors
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	msg := oneLine(err.Error())
	if code == exitUsage && cmd != nil {
		msg += fmt.Sprintf(" (see '%s --help')", cmd.CommandPath())
	}
	fmt.Fprintf(stderr, "cairn: %s\n", msg)
	return code
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "cairn",
		Short: "Offline tools for a Cairn journal data dir",
		Long: "cairn works directly on a data dir's Badger journal: append app events, tail entries,\n" +
			"verify hashes, chains and signed checkpoints, and produce or check Merkle proofs.\n" +
			"The journal is locked while a command runs, so stop cairnd before using it on the same dir.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE:          helpOnly,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	pf := root.PersistentFlags()
	pf.StringVar(&a.dataDir, "data-dir", "", "data dir holding the journal (env CAIRN_DATA_DIR)")
	pf.StringVar(&a.keyFile, "encryption-key-file", "", "file with the AES key: 32/48/64 hex characters or 16/24/32 raw bytes (env CAIRN_ENCRYPTION_KEY, hex)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr("%v", err) })

	root.AddCommand(
		a.appendCommand(),
		a.tailCommand(),
		a.verifyCommand(),
		a.checkpointCommand(),
		a.proofCommand(),
		a.keysCommand(),
		a.tokenCommand(),
		a.schemaCommand(),
	)
	return root
}

// helpOnly is the body of commands that only group subcommands: alone they
// print help, and with an argument cobra.NoArgs reports an unknown command.
func helpOnly(cmd *cobra.Command, _ []string) error { return cmd.Help() }

// exitError carries the exit code of a failed command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErr reports a flag or argument problem found by a command (exit 2).
func usageErr(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// runE adapts a command body: any error it returns that is not already a
// usage error becomes a failure (exit 1).
func runE(fn func(cmd *cobra.Command) error) func(*cobra.Command, []string) error {
	return runEArgs(func(cmd *cobra.Command, _ []string) error { return fn(cmd) })
}

// runEArgs is runE for commands that take positional arguments.
func runEArgs(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := fn(cmd, args)
		if err == nil {
			return nil
		}
		var ee *exitError
		if errors.As(err, &ee) {
			return err
		}
		if errors.Is(err, context.Canceled) {
			err = errors.New("interrupted")
		}
		return &exitError{code: exitFailure, err: err}
	}
}

// oneLine keeps an error message on a single line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}
