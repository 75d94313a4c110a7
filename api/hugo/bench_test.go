package hugo

import (
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"github.com/cairnlog/cairn/journal"
)

// benchRecord is a typical CDC update: REPLICA IDENTITY FULL before and after
// images of a ten-column row (about 230 bytes each).
func benchRecord() journal.Record {
	commit := time.Date(2026, 11, 26, 3, 4, 5, 123456000, time.UTC)
	row := func(total string) []byte {
		return []byte(`{"id":1234567,"customer_id":987654,"status":"shipped","currency":"EUR","total":"` + total +
			`","placed_at":"2026-11-26 03:04:05.123456+00","note":"leave at the door","items":3,"tags":["gift","priority"],"notes":{"$unchanged":true}}`)
	}
	return journal.Record{Entry: journal.Entry{
		Stream: "shop", Seq: 123456789, PrevHash: someHash("prev"), Kind: journal.KindChange, SourceID: "pg-main",
		SourcePosition: pgPosition(0x16B3748, 17), TxID: "74512", CommitTime: commit, Table: "public.orders",
		Op: journal.OpUpdate, Key: []byte(`{"id":1234567}`), Before: row("19.90"), After: row("24.50"),
		RecordedAt: commit.Add(1234567 * time.Nanosecond),
	}, Hash: someHash("hash")}
}

// BenchmarkAppendRender is the hot path: one entry into a reused buffer.
// Compare with BenchmarkReferenceEncodingJSON, measured in the same run.
func BenchmarkAppendRender(b *testing.B) {
	rec := benchRecord()
	opt := Options{SourcePeerID: "cairn-eu-1"}
	buf, err := AppendRender(nil, &rec, opt)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = AppendRender(buf[:0], &rec, opt)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkAppendRenderAppEvent renders an application event with metadata.
func BenchmarkAppendRenderAppEvent(b *testing.B) {
	rec := journal.Record{Entry: journal.Entry{
		Stream: "shop", Seq: 123456790, PrevHash: someHash("prev"), Kind: journal.KindAppEvent,
		ProducerID: "billing-svc", ProducerSeq: 41, Key: []byte("invoice/2026-0001"),
		Payload:    []byte(`{"invoiceId":"2026-0001","amount":"19.90","lines":[{"sku":"A-1","qty":2},{"sku":"B-7","qty":1}]}`),
		Metadata:   map[string]string{"shard.id": "3", "content-type": "application/json", "trace": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
		RecordedAt: time.Date(2026, 11, 26, 3, 4, 5, 200017311, time.UTC),
	}, Hash: someHash("hash")}
	opt := Options{SourcePeerID: "cairn-eu-1"}
	buf, _ := AppendRender(nil, &rec, opt)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = AppendRender(buf[:0], &rec, opt)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkReferenceEncodingJSON is the same-run reference: the same
// envelope built as a map and encoded with encoding/json (reflection, sorted
// keys, RawMessage images validated and compacted), which is what the
// profile would cost without a hand-written encoder.
func BenchmarkReferenceEncodingJSON(b *testing.B) {
	rec := benchRecord()
	e := &rec.Entry
	b.ReportAllocs()
	for b.Loop() {
		changeID := ChangeID(e)
		m := map[string]any{
			"profile": Profile, "streamId": e.Stream, "queueName": e.Stream, "sequence": e.Seq, "sequenceNumber": e.Seq,
			"prevSequence": e.Seq - 1, "kind": KindOffset + int32(e.Kind), "flags": 0, "sourcePeerId": "cairn-eu-1",
			"ownerPeerId": nil, "sourceId": e.SourceID, "sourcePosition": e.SourcePosition, "txId": e.TxID,
			"occurredAt": e.CommitTime.UTC(), "recordedAt": e.RecordedAt.UTC(), "changeId": changeID, "schemaId": nil,
			"schemaVersion": 1, "effectId": EffectID(changeID, 1, e.Stream, e.Seq), "entityKey": string(e.Key),
			"entityKeyEncoding": "utf-8", "idempotencyKey": nil, "table": e.Table, "op": e.Op.String(),
			"before": json.RawMessage(e.Before), "after": json.RawMessage(e.After), "payload": nil, "payloadEncoding": nil,
			"metadata": map[string]string{}, "prevHash": hex.EncodeToString(e.PrevHash[:]), "hash": hex.EncodeToString(rec.Hash[:]),
			"checkpointToken": CheckpointToken{e.Stream, e.Seq, rec.Hash}.String(),
		}
		if _, err := json.Marshal(m); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
