package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/journal/badgerstore"
)

const (
	maxAppendBatch = 1000     // entries appended under one Append call
	maxLineBytes   = 16 << 20 // longest accepted input line
)

func (a *app) appendCommand() *cobra.Command {
	var stream, producer string
	cmd := &cobra.Command{
		Use:   "append --data-dir DIR --stream NAME --producer ID",
		Short: "Append app events read as JSON lines from stdin",
		Long: "append reads one JSON object per line from stdin:\n\n" +
			`  {"producer_seq": N, "key": "optional string", "payload": <any JSON value>}` + "\n\n" +
			"and appends each as an app_event entry with producer ID and producer_seq N. The payload is\n" +
			"stored as compact JSON. For each input line, once its entry is durable, it prints\n" +
			`{"seq":S,"duplicate":false|true}` + "; a (producer, producer_seq) seen before is not appended\n" +
			"again and reports the seq it got the first time. The data dir is created if needed.",
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command) error {
			if err := streamFlag(stream); err != nil {
				return err
			}
			if producer == "" {
				return usageErr("--producer must not be empty")
			}
			return a.runAppend(cmd.Context(), stream, producer)
		}),
	}
	cmd.Flags().StringVar(&stream, "stream", "", "stream to append to (required)")
	cmd.Flags().StringVar(&producer, "producer", "", "producer ID recorded on every entry (required)")
	_ = cmd.MarkFlagRequired("stream")
	_ = cmd.MarkFlagRequired("producer")
	return cmd
}

// inputLine is one parsed input line, or the error that ends the input.
type inputLine struct {
	n     int // 1-based line number
	entry journal.Entry
	err   error // set on the last item when the input is bad or unreadable
}

// appendResult is the output line for one input line.
type appendResult struct {
	Seq       uint64 `json:"seq"`
	Duplicate bool   `json:"duplicate"`
}

func (a *app) runAppend(ctx context.Context, stream, producer string) (err error) {
	s, _, err := a.openStore(openCreate)
	if err != nil {
		return err
	}
	defer closeStore(s, &err)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lines := make(chan inputLine, maxAppendBatch)
	go readEvents(ctx, a.stdin, producer, lines)

	out := bufio.NewWriter(a.stdout)
	enc := json.NewEncoder(out)
	batch := make([]inputLine, 0, maxAppendBatch)
	for {
		// Wait for one line, then take whatever else is already there.
		batch = batch[:0]
		var first inputLine
		var ok bool
		select {
		case first, ok = <-lines:
		case <-ctx.Done():
			return ctx.Err()
		}
		if !ok {
			return nil
		}
		var inputErr error
		if first.err != nil {
			inputErr = first.err
		} else {
			batch = append(batch, first)
		}
	drain:
		for inputErr == nil && len(batch) < maxAppendBatch {
			select {
			case l, ok := <-lines:
				if !ok {
					break drain
				}
				if l.err != nil {
					inputErr = l.err
					break drain
				}
				batch = append(batch, l)
			default:
				break drain
			}
		}
		if err := appendBatch(ctx, s, stream, batch, enc); err != nil {
			out.Flush()
			return err
		}
		if err := out.Flush(); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
		if inputErr != nil {
			return inputErr
		}
	}
}

// appendBatch appends a batch and prints one result per line. If the store
// rejects an entry as invalid, nothing of the batch was written; the batch is
// then appended line by line so that every line before the bad one lands and
// the error names the bad line.
func appendBatch(ctx context.Context, s *badgerstore.Store, stream string, batch []inputLine, enc *json.Encoder) error {
	if len(batch) == 0 {
		return nil
	}
	entries := make([]journal.Entry, len(batch))
	for i := range batch {
		entries[i] = batch[i].entry
	}
	res, err := s.Append(ctx, stream, entries)
	if errors.Is(err, journal.ErrInvalidEntry) && len(batch) > 1 {
		for i := range batch {
			if err := appendBatch(ctx, s, stream, batch[i:i+1], enc); err != nil {
				return err
			}
		}
		return nil
	}
	if err != nil {
		if len(batch) == 1 && errors.Is(err, journal.ErrInvalidEntry) {
			return fmt.Errorf("line %d: %w", batch[0].n, err)
		}
		return fmt.Errorf("append lines %d-%d: %w", batch[0].n, batch[len(batch)-1].n, err)
	}
	for _, r := range res {
		if err := enc.Encode(appendResult{Seq: r.Seq, Duplicate: r.Duplicate}); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	}
	return nil
}

// readEvents parses stdin line by line and sends each event on out. It
// stops at the first bad or unreadable line, sending that error last, and
// closes out when the input ends.
func readEvents(ctx context.Context, r io.Reader, producer string, out chan<- inputLine) {
	defer close(out)
	send := func(l inputLine) bool {
		select {
		case out <- l:
			return true
		case <-ctx.Done():
			return false
		}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		e, err := parseEvent(line)
		if err != nil {
			send(inputLine{n: n, err: fmt.Errorf("line %d: %w", n, err)})
			return
		}
		e.Kind = journal.KindAppEvent
		e.ProducerID = producer
		if !send(inputLine{n: n, entry: e}) {
			return
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("line is longer than %d MiB", maxLineBytes>>20)
		}
		send(inputLine{n: n + 1, err: fmt.Errorf("line %d: read stdin: %w", n+1, err)})
	}
}

// isPlainUint reports whether a JSON number is a non-negative integer written
// without sign, fraction, exponent or leading zeros.
func isPlainUint(b []byte) bool {
	if len(b) == 0 || (b[0] == '0' && len(b) > 1) {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseEvent turns one input line into an entry (kind and producer are set by the caller).
func parseEvent(line []byte) (journal.Entry, error) {
	var e journal.Entry
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(line, &fields); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return e, fmt.Errorf("invalid JSON: %v", err)
		}
		return e, errors.New(`want a JSON object like {"producer_seq": 1, "key": "k", "payload": {...}}`)
	}
	if fields == nil {
		return e, errors.New(`want a JSON object like {"producer_seq": 1, "key": "k", "payload": {...}}, got null`)
	}
	for name := range fields {
		switch name {
		case "producer_seq", "key", "payload":
		default:
			return e, fmt.Errorf("unknown field %q (want producer_seq, key and payload)", name)
		}
	}
	raw, ok := fields["producer_seq"]
	if !ok {
		return e, errors.New("missing producer_seq")
	}
	if !isPlainUint(raw) {
		return e, fmt.Errorf("producer_seq %s is not a non-negative integer", raw)
	}
	n, err := strconv.ParseUint(string(raw), 10, 64)
	if err != nil {
		return e, fmt.Errorf("producer_seq %s does not fit in 64 bits", raw)
	}
	e.ProducerSeq = n
	if raw, ok := fields["key"]; ok && string(raw) != "null" {
		var key string
		if err := json.Unmarshal(raw, &key); err != nil {
			return e, fmt.Errorf("key must be a string, got %s", truncate(string(raw), 40))
		}
		if key != "" {
			e.Key = []byte(key)
		}
	}
	if raw, ok := fields["payload"]; ok {
		var buf bytes.Buffer
		buf.Grow(len(raw))
		if err := json.Compact(&buf, raw); err != nil {
			return e, fmt.Errorf("payload: %v", err)
		}
		e.Payload = buf.Bytes()
	}
	return e, nil
}
