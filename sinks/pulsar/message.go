package pulsar

import (
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"os"
	"strconv"
	"time"

	plog "github.com/apache/pulsar-client-go/pulsar/log"

	"github.com/cairnlog/cairn/journal"
)

// message is the payload of one forwarded change: a JSON object with the
// entry's coordinates and its row images (docs/sinks.md).
//
//	{"stream":…,"seq":N,"hash":…,"table":…,"op":…,"kind":…,"tx_id":…,
//	 "commit_time":…,"key":<row JSON>,"before":<row JSON>|null,"after":<row JSON>|null}
func message(r *journal.Record) []byte {
	b := make([]byte, 0, 128+len(r.Before)+len(r.After)+len(r.Key))
	b = append(b, `{"stream":`...)
	b = strconv.AppendQuote(b, r.Stream)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, r.Seq, 10)
	b = append(b, `,"hash":"`...)
	b = append(b, r.Hash.String()...)
	b = append(b, `","table":`...)
	b = strconv.AppendQuote(b, r.Table)
	b = append(b, `,"op":`...)
	b = strconv.AppendQuote(b, r.Op.String())
	b = append(b, `,"kind":`...)
	b = strconv.AppendQuote(b, r.Kind.String())
	b = append(b, `,"tx_id":`...)
	b = strconv.AppendQuote(b, r.TxID)
	b = append(b, `,"commit_time":`...)
	if r.CommitTime.IsZero() {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendQuote(b, r.CommitTime.UTC().Format(time.RFC3339Nano))
	}
	b = append(b, `,"key":`...)
	b = appendJSONOrBase64(b, r.Key)
	b = append(b, `,"before":`...)
	b = appendJSONOrBase64(b, r.Before)
	b = append(b, `,"after":`...)
	b = appendJSONOrBase64(b, r.After)
	return append(b, '}')
}

// appendJSONOrBase64 embeds a row image as JSON when it is JSON (capture's
// row JSON), otherwise as {"$base64": …}; nothing is null.
func appendJSONOrBase64(b, v []byte) []byte {
	switch {
	case len(v) == 0:
		return append(b, "null"...)
	case json.Valid(v):
		return append(b, v...)
	}
	b = append(b, `{"$base64":"`...)
	b = base64.StdEncoding.AppendEncode(b, v)
	return append(b, `"}`...)
}

// quietLogger keeps the Pulsar client's chatter at warnings and above.
func quietLogger() plog.Logger {
	return plog.NewLoggerWithSlog(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
}
