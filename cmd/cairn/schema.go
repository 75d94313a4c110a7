package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	cairnv1 "github.com/cairnlog/cairn/api/cairnv1"
	"github.com/cairnlog/cairn/replay"
	"github.com/cairnlog/cairn/schema"
)

// schemaVersion is what the schema commands print, from either source.
type schemaVersion struct {
	Subject     string
	Version     int
	ID          int
	Fingerprint string
	Mode        string
	Compatible  bool
	Reason      string
	Schema      []byte
}

// schemaReader reads the registry of a data dir or of a running cairnd.
type schemaReader interface {
	subjects(ctx context.Context) ([]string, error)
	versions(ctx context.Context, subject string) ([]int, error)
	version(ctx context.Context, subject string, v int) (schemaVersion, error) // -1: latest
	close()
}

type localSchemas struct {
	reg  *schema.Registry
	done func()
}

func (l localSchemas) subjects(context.Context) ([]string, error) { return l.reg.Subjects(), nil }
func (l localSchemas) versions(_ context.Context, s string) ([]int, error) {
	return l.reg.Versions(s)
}
func (l localSchemas) version(_ context.Context, s string, v int) (schemaVersion, error) {
	ver, err := l.reg.Version(s, v)
	if err != nil {
		return schemaVersion{}, err
	}
	return schemaVersion{ver.Subject, ver.Version, ver.ID, ver.Fingerprint.String(), string(ver.Mode), ver.Compatible, ver.Reason, ver.JSON}, nil
}
func (l localSchemas) close() { l.done() }

type remoteSchemas struct{ c cairnv1.SchemaServiceClient }

func (r remoteSchemas) subjects(ctx context.Context) ([]string, error) {
	resp, err := r.c.ListSubjects(ctx, &cairnv1.ListSubjectsRequest{})
	if err != nil {
		return nil, err
	}
	return resp.Subjects, nil
}
func (r remoteSchemas) versions(ctx context.Context, s string) ([]int, error) {
	resp, err := r.c.ListVersions(ctx, &cairnv1.ListVersionsRequest{Subject: s})
	if err != nil {
		return nil, err
	}
	out := make([]int, len(resp.Versions))
	for i, v := range resp.Versions {
		out[i] = int(v)
	}
	return out, nil
}
func (r remoteSchemas) version(ctx context.Context, s string, v int) (schemaVersion, error) {
	vs := "latest"
	if v > 0 {
		vs = strconv.Itoa(v)
	}
	resp, err := r.c.GetVersion(ctx, &cairnv1.GetVersionRequest{Subject: s, Version: vs})
	if err != nil {
		return schemaVersion{}, err
	}
	x := resp.Version
	return schemaVersion{x.Subject, int(x.Version), int(x.Id), x.Fingerprint, x.Mode, x.Compatible, x.Reason, []byte(x.Schema)}, nil
}
func (r remoteSchemas) close() {}

func (a *app) schemaReader(ctx context.Context, rf remoteFlags) (schemaReader, error) {
	if rf.server != "" {
		c, err := rf.dial()
		if err != nil {
			return nil, err
		}
		return remoteSchemas{c.Schemas}, nil
	}
	s, _, err := a.openStore(openReadOnly)
	if err != nil {
		return nil, err
	}
	reg, err := replay.NewSchemaLog(s).Refresh(ctx)
	if err != nil {
		s.Close()
		return nil, err
	}
	return localSchemas{reg: reg, done: func() { s.Close() }}, nil
}

func (a *app) schemaCommand() *cobra.Command {
	var remote remoteFlags
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Read the schema registry: the Avro versions capture recorded in the journal",
		Args:  cobra.NoArgs,
		RunE:  helpOnly,
	}
	remote.register(cmd.PersistentFlags())

	list := &cobra.Command{
		Use:   "list (--data-dir DIR | --server HOST:PORT)",
		Short: "List subjects with their number of versions and the latest version's verdict",
		Args:  cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command) error {
			r, err := a.schemaReader(cmd.Context(), remote)
			if err != nil {
				return err
			}
			defer r.close()
			subs, err := r.subjects(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SUBJECT\tVERSIONS\tLATEST ID\tMODE\tCOMPATIBLE")
			for _, s := range subs {
				v, err := r.version(cmd.Context(), s, -1)
				if err != nil {
					return err
				}
				fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%v\n", s, v.Version, v.ID, v.Mode, v.Compatible)
			}
			return tw.Flush()
		}),
	}

	var version int
	show := &cobra.Command{
		Use:   "show SUBJECT [--version N] (--data-dir DIR | --server HOST:PORT)",
		Short: "Print one version of a subject (default: the latest) and its schema",
		Args:  cobra.ExactArgs(1),
		RunE: runEArgs(func(cmd *cobra.Command, args []string) error {
			if version < 0 {
				return usageErr("--version must be 1 or more (0: the latest)")
			}
			r, err := a.schemaReader(cmd.Context(), remote)
			if err != nil {
				return err
			}
			defer r.close()
			v, err := r.version(cmd.Context(), args[0], orLatest(version))
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "subject:     %s\nversion:     %d\nid:          %d\nfingerprint: %s\nmode:        %s\ncompatible:  %v\n", v.Subject, v.Version, v.ID, v.Fingerprint, v.Mode, v.Compatible)
			if v.Reason != "" {
				fmt.Fprintf(a.stdout, "reason:      %s\n", v.Reason)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, v.Schema, "", "  "); err != nil {
				pretty.Write(v.Schema)
			}
			fmt.Fprintf(a.stdout, "%s\n", pretty.Bytes())
			return nil
		}),
	}
	show.Flags().IntVar(&version, "version", 0, "version number (default: the latest)")

	diff := &cobra.Command{
		Use:   "diff SUBJECT A B (--data-dir DIR | --server HOST:PORT)",
		Short: "Show the fields added, removed and changed from version A to version B",
		Args:  cobra.ExactArgs(3),
		RunE: runEArgs(func(cmd *cobra.Command, args []string) error {
			va, err1 := strconv.Atoi(args[1])
			vb, err2 := strconv.Atoi(args[2])
			if err1 != nil || err2 != nil || va < 1 || vb < 1 {
				return usageErr("versions must be numbers from 1 (see cairn schema show SUBJECT)")
			}
			r, err := a.schemaReader(cmd.Context(), remote)
			if err != nil {
				return err
			}
			defer r.close()
			x, err := r.version(cmd.Context(), args[0], va)
			if err != nil {
				return err
			}
			y, err := r.version(cmd.Context(), args[0], vb)
			if err != nil {
				return err
			}
			lines, err := diffFields(x.Schema, y.Schema)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s: version %d -> %d\n", args[0], va, vb)
			for _, l := range lines {
				fmt.Fprintln(a.stdout, l)
			}
			if len(lines) == 0 {
				fmt.Fprintln(a.stdout, "  (no field changes)")
			}
			fmt.Fprintf(a.stdout, "version %d: mode %s, compatible %v %s\n", vb, y.Mode, y.Compatible, y.Reason)
			return nil
		}),
	}
	cmd.AddCommand(list, show, diff)
	return cmd
}

func orLatest(v int) int {
	if v == 0 {
		return -1
	}
	return v
}

// diffFields compares the fields of two record schemas by name.
func diffFields(a, b []byte) ([]string, error) {
	type field struct {
		Name string          `json:"name"`
		Type json.RawMessage `json:"type"`
	}
	var ra, rb struct {
		Fields []field `json:"fields"`
	}
	if err := json.Unmarshal(a, &ra); err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	if err := json.Unmarshal(b, &rb); err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	compact := func(m json.RawMessage) string {
		var buf bytes.Buffer
		if json.Compact(&buf, m) != nil {
			return string(m)
		}
		return buf.String()
	}
	ta, tb := map[string]string{}, map[string]string{}
	for _, f := range ra.Fields {
		ta[f.Name] = compact(f.Type)
	}
	for _, f := range rb.Fields {
		tb[f.Name] = compact(f.Type)
	}
	var out []string
	for _, f := range ra.Fields {
		if t, ok := tb[f.Name]; !ok {
			out = append(out, fmt.Sprintf("- %s: %s", f.Name, ta[f.Name]))
		} else if t != ta[f.Name] {
			out = append(out, fmt.Sprintf("~ %s: %s -> %s", f.Name, ta[f.Name], t))
		}
	}
	var added []string
	for _, f := range rb.Fields {
		if _, ok := ta[f.Name]; !ok {
			added = append(added, fmt.Sprintf("+ %s: %s", f.Name, tb[f.Name]))
		}
	}
	sort.Strings(added)
	return append(out, added...), nil
}
