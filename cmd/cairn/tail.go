package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/replay/history"
)

const tailPage = 1000 // records per store.Read call

func (a *app) tailCommand() *cobra.Command {
	var (
		stream string
		from   uint64
		limit  uint64
		follow bool
		format string
		remote remoteFlags
	)
	cmd := &cobra.Command{
		Use:   "tail (--data-dir DIR | --server HOST:PORT) --stream NAME [--from SEQ] [--limit N] [--follow] [--format json|table]",
		Short: "Print a stream's entries",
		Long: "tail prints the entries of a stream from --from on, one JSON object per line (--format json)\n" +
			"or as an aligned table (--format table). --limit 0 means no limit. --follow keeps waiting\n" +
			"for new entries until interrupted (SIGINT or SIGTERM), which then ends the command cleanly.\n" +
			"With --server it reads from a running cairnd's gRPC API instead of the data dir\n" +
			"(token from --token or env CAIRN_TOKEN).",
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command) error {
			if err := streamFlag(stream); err != nil {
				return err
			}
			if from == 0 {
				return usageErr("--from must be at least 1 (seqs start at 1)")
			}
			var p printer
			switch format {
			case "json":
				p = newJSONPrinter(a.stdout)
			case "table":
				p = newTablePrinter(a.stdout)
			default:
				return usageErr("--format must be json or table, got %q", format)
			}
			if remote.server != "" {
				return a.runRemoteTail(cmd.Context(), remote, stream, from, limit, follow, p)
			}
			return a.runTail(cmd.Context(), stream, from, limit, follow, p)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&stream, "stream", "", "stream to read (required)")
	f.Uint64Var(&from, "from", 1, "first seq to print")
	f.Uint64Var(&limit, "limit", 0, "print at most N entries (0: no limit)")
	f.BoolVar(&follow, "follow", false, "keep waiting for new entries until interrupted")
	f.StringVar(&format, "format", "json", "output format: json or table")
	remote.register(f)
	_ = cmd.MarkFlagRequired("stream")
	return cmd
}

func (a *app) runTail(ctx context.Context, stream string, from, limit uint64, follow bool, p printer) (err error) {
	s, dir, err := a.openStore(openReadOnly)
	if err != nil {
		return err
	}
	defer closeStore(s, &err)
	if _, err := requireStream(ctx, s, dir, stream); err != nil {
		return err
	}
	if err := p.header(); err != nil {
		return err
	}
	hist := history.New(s, stream) // Avro row images print as their canonical row JSON
	printed := uint64(0)
	next := from
	for limit == 0 || printed < limit {
		n := uint64(tailPage)
		if limit != 0 && limit-printed < n {
			n = limit - printed
		}
		recs, err := s.Read(ctx, stream, next, int(n))
		if err != nil {
			if follow && ctx.Err() != nil {
				break
			}
			return err
		}
		if len(recs) == 0 {
			if !follow {
				break
			}
			if _, err := s.Wait(ctx, stream, next-1); err != nil {
				if ctx.Err() != nil {
					break // interrupted: a normal way to end --follow
				}
				return err
			}
			continue
		}
		for i := range recs {
			r, err := hist.Render(ctx, &recs[i])
			if err != nil {
				return err
			}
			if err := p.record(&r); err != nil {
				return err
			}
		}
		if err := p.flush(); err != nil {
			return err
		}
		printed += uint64(len(recs))
		next = recs[len(recs)-1].Seq + 1
	}
	return p.flush()
}

// printer writes records in one output format.
type printer interface {
	header() error
	record(r *journal.Record) error
	flush() error
}

// tailJSON is the JSON form of one entry printed by tail. Fields that are
// always present carry no omitempty.
type tailJSON struct {
	Seq               uint64            `json:"seq"`
	Stream            string            `json:"stream,omitempty"`
	Kind              string            `json:"kind"`
	Hash              string            `json:"hash"`
	PrevHash          string            `json:"prev_hash"`
	SourceID          string            `json:"source_id,omitempty"`
	SourcePosition    string            `json:"source_position,omitempty"`
	TxID              string            `json:"tx_id,omitempty"`
	CommitTime        string            `json:"commit_time,omitempty"`
	Table             string            `json:"table,omitempty"`
	Op                string            `json:"op,omitempty"`
	Key               string            `json:"key"`
	KeyBase64         string            `json:"key_base64,omitempty"`
	Before            json.RawMessage   `json:"before,omitempty"`
	BeforeBase64      string            `json:"before_base64,omitempty"`
	After             json.RawMessage   `json:"after,omitempty"`
	AfterBase64       string            `json:"after_base64,omitempty"`
	SchemaFingerprint string            `json:"schema_fingerprint,omitempty"`
	ProducerID        string            `json:"producer_id"`
	ProducerSeq       uint64            `json:"producer_seq"`
	Payload           json.RawMessage   `json:"payload"`
	PayloadBase64     string            `json:"payload_base64,omitempty"`
	Metadata          map[string]string `json:"metadata,omitempty"`
	RecordedAt        string            `json:"recorded_at,omitempty"`
}

func toTailJSON(r *journal.Record) tailJSON {
	e := &r.Entry
	t := tailJSON{
		Seq:               e.Seq,
		Stream:            e.Stream,
		Kind:              e.Kind.String(),
		Hash:              r.Hash.String(),
		PrevHash:          e.PrevHash.String(),
		SourceID:          e.SourceID,
		SourcePosition:    hex.EncodeToString(e.SourcePosition),
		TxID:              e.TxID,
		Table:             e.Table,
		Op:                e.Op.String(),
		SchemaFingerprint: hex.EncodeToString(e.SchemaFingerprint),
		ProducerID:        e.ProducerID,
		ProducerSeq:       e.ProducerSeq,
		Metadata:          e.Metadata,
	}
	if !e.CommitTime.IsZero() {
		t.CommitTime = e.CommitTime.UTC().Format(time.RFC3339Nano)
	}
	if !e.RecordedAt.IsZero() {
		t.RecordedAt = e.RecordedAt.UTC().Format(time.RFC3339Nano)
	}
	if utf8.Valid(e.Key) {
		t.Key = string(e.Key)
	} else {
		t.KeyBase64 = base64.StdEncoding.EncodeToString(e.Key)
	}
	t.Before, t.BeforeBase64 = jsonOrBase64(e.Before)
	t.After, t.AfterBase64 = jsonOrBase64(e.After)
	t.Payload, t.PayloadBase64 = jsonOrBase64(e.Payload)
	return t
}

// jsonOrBase64 embeds b as raw JSON when it is valid JSON, otherwise returns
// it base64-encoded. Empty input gives neither.
func jsonOrBase64(b []byte) (json.RawMessage, string) {
	if len(b) == 0 {
		return nil, ""
	}
	if json.Valid(b) {
		return json.RawMessage(b), ""
	}
	return nil, base64.StdEncoding.EncodeToString(b)
}

type jsonPrinter struct {
	w   *bufio.Writer
	enc *json.Encoder
}

func newJSONPrinter(w io.Writer) *jsonPrinter {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &jsonPrinter{w: bw, enc: enc}
}

func (p *jsonPrinter) header() error { return nil }

func (p *jsonPrinter) record(r *journal.Record) error {
	if err := p.enc.Encode(toTailJSON(r)); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

func (p *jsonPrinter) flush() error {
	if err := p.w.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

const (
	tableHashChars    = 12
	tablePayloadChars = 60
)

type tablePrinter struct {
	w  io.Writer
	tw *tabwriter.Writer
}

func newTablePrinter(w io.Writer) *tablePrinter {
	return &tablePrinter{w: w, tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
}

func (p *tablePrinter) header() error {
	_, err := fmt.Fprintln(p.tw, "SEQ\tKIND\tTABLE\tOP\tKEY\tHASH\tDATA")
	return err
}

func (p *tablePrinter) record(r *journal.Record) error {
	e := &r.Entry
	key := string(e.Key)
	if !utf8.Valid(e.Key) {
		key = "b64:" + base64.StdEncoding.EncodeToString(e.Key)
	}
	// DATA shows what the entry carries: the payload of an app event, the
	// row after a change (before, for a delete), the change count of a commit.
	data := e.Payload
	switch {
	case len(data) == 0 && len(e.After) > 0:
		data = e.After
	case len(data) == 0 && len(e.Before) > 0:
		data = e.Before
	case len(data) == 0 && e.Kind == journal.KindTxCommit && e.Metadata["changes"] != "":
		data = []byte(e.Metadata["changes"] + " changes")
	}
	payload := ""
	if raw, b64 := jsonOrBase64(data); raw != nil {
		payload = string(raw)
	} else if b64 != "" && utf8.Valid(data) {
		payload = string(data)
	} else if b64 != "" {
		payload = "b64:" + b64
	}
	_, err := fmt.Fprintf(p.tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n",
		e.Seq, e.Kind, cell(e.Table, 40), cell(e.Op.String(), 10), cell(key, 40),
		r.Hash.String()[:tableHashChars], cell(payload, tablePayloadChars))
	if err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

func (p *tablePrinter) flush() error {
	if err := p.tw.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// cell makes s safe for one table cell: control characters become spaces,
// long values are cut to max characters ending in "...", and empty is "-".
func cell(s string, max int) string {
	if s == "" {
		return "-"
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return truncate(s, max)
}

// truncate cuts s to at most max characters, marking a cut with "...".
func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	if max <= 3 {
		return string([]rune(s)[:max])
	}
	return string([]rune(s)[:max-3]) + "..."
}
