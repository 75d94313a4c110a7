package hugo

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnlog/cairn/journal"
)

var update = flag.Bool("update", false, "rewrite testdata/envelopes.json")

const goldenPath = "testdata/envelopes.json"

// fixtureOptions are the options the golden fixture is rendered with.
func fixtureOptions() Options { return Options{SourcePeerID: "cairn-eu-1"} }

type fixtureCase struct {
	name string
	rec  journal.Record
}

// pgPosition is capture/postgres.Position: commit LSN then index in the
// transaction, both big-endian u64.
func pgPosition(lsn, index uint64) []byte {
	b := binary.BigEndian.AppendUint64(nil, lsn)
	return binary.BigEndian.AppendUint64(b, index)
}

// chain fills in Seq (from first), PrevHash and Hash the way a store does.
func chain(t testing.TB, stream string, first uint64, prev journal.Hash, entries []journal.Entry) []journal.Record {
	t.Helper()
	out := make([]journal.Record, len(entries))
	for i, e := range entries {
		e.Stream, e.Seq, e.PrevHash = stream, first+uint64(i), prev
		b, err := journal.EntryBytes(&e)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = journal.Record{Entry: e, Hash: journal.HashEntryBytes(b)}
		prev = out[i].Hash
	}
	return out
}

// someHash is a stand-in prev_hash for records that do not start a stream.
func someHash(s string) journal.Hash { return journal.Hash(sha256.Sum256([]byte(s))) }

// fixtureCases are the records of testdata/envelopes.json, in file order.
func fixtureCases(t testing.TB) []fixtureCase {
	t.Helper()
	commit := time.Date(2026, 11, 26, 3, 4, 5, 123456000, time.UTC)
	rec := func(ns int) time.Time { return time.Date(2026, 11, 26, 3, 4, 5, 200017311+ns, time.UTC) }
	const lsn = 0x16B3748
	tx := chain(t, "shop", 1, journal.Hash{}, []journal.Entry{
		{Kind: journal.KindTxBegin, SourceID: "pg-main", SourcePosition: pgPosition(lsn, 0), TxID: "745", CommitTime: commit, RecordedAt: rec(0)},
		{Kind: journal.KindChange, SourceID: "pg-main", SourcePosition: pgPosition(lsn, 1), TxID: "745", CommitTime: commit, RecordedAt: rec(1000),
			Table: "public.orders", Op: journal.OpInsert, Key: []byte(`{"id":7}`),
			After: []byte(`{"id":7,"customer":"Ann \"A\"","total":"19.90","placed_at":"2026-11-26 03:04:05.123456+00","tags":["new","gift"],"big":9007199254740993}`)},
		{Kind: journal.KindChange, SourceID: "pg-main", SourcePosition: pgPosition(lsn, 2), TxID: "745", CommitTime: commit, RecordedAt: rec(2000),
			Table: "public.orders", Op: journal.OpUpdate, Key: []byte(`{"id":7}`), SchemaFingerprint: []byte{0x5a, 0x1c, 0x09, 0xe3, 0x77, 0x00, 0xb2, 0x4f},
			Before: []byte(`{"id":7,"customer":"Ann \"A\"","total":"19.90","notes":{"$unchanged":true},"gone":null}`),
			After:  []byte(`{"id":7,"customer":"Ann \"A\"","total":"24.50","notes":{"$unchanged":true},"gone":null}`)},
		{Kind: journal.KindChange, SourceID: "pg-main", SourcePosition: pgPosition(lsn, 3), TxID: "745", CommitTime: commit, RecordedAt: rec(3000),
			Table: "public.orders", Op: journal.OpDelete, Key: []byte(`{"id":8}`), Before: []byte(`{"id":8}`)},
		{Kind: journal.KindChange, SourceID: "pg-main", SourcePosition: pgPosition(lsn, 4), TxID: "745", CommitTime: commit, RecordedAt: rec(4000),
			Table: "public.order_lines", Op: journal.OpTruncate, Metadata: map[string]string{"cascade": "true"}},
		{Kind: journal.KindTxCommit, SourceID: "pg-main", SourcePosition: pgPosition(lsn, 5), TxID: "745", CommitTime: commit, RecordedAt: rec(5000),
			Metadata: map[string]string{"pg.end_lsn": "0/16B3800", "changes": "4"}},
	})
	snap := chain(t, "shop", 7, tx[len(tx)-1].Hash, []journal.Entry{
		// A snapshot row has no commit time and no transaction.
		{Kind: journal.KindSnapshotRead, SourceID: "pg-main", SourcePosition: pgPosition(0, 1), RecordedAt: rec(6000),
			Table: "public.customers", Key: []byte(`{"id":1}`), After: []byte(`{"id":1,"name":"Zoë","since":"2019-02-28"}`)},
		{Kind: journal.KindAppEvent, RecordedAt: rec(7000), ProducerID: "billing-svc", ProducerSeq: 41,
			Key: []byte("invoice/2026-0001"), Payload: []byte(`{"invoiceId":"2026-0001","amount":"19.90"}`),
			Metadata: map[string]string{"shard.id": "3", "content-type": "application/json"}},
	})
	ddl := chain(t, "mariadb-app", 1205, someHash("mariadb-app/1204"), []journal.Entry{
		{Kind: journal.KindChange, SourceID: "maria", SourcePosition: []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x2a, 0, 0, 0, 0, 0, 0, 0, 1}, TxID: "0-1-42",
			CommitTime: time.Date(2026, 11, 26, 3, 5, 0, 0, time.UTC), RecordedAt: rec(8000),
			Table: "app.users", Op: journal.OpDDL, Payload: []byte("ALTER TABLE users ADD COLUMN email varchar(255)")},
	})
	edge := chain(t, "edge.big-numbers_1", 1<<53+1, someHash("edge/2^53"), []journal.Entry{
		{Kind: journal.KindAppEvent, RecordedAt: time.Date(2026, 11, 26, 3, 4, 5, 0, time.FixedZone("CET", 3600)),
			ProducerID: `tenant "7"/worker`, ProducerSeq: 1<<64 - 1,
			Key: []byte{0xff, 0x00, 0x01}, Payload: []byte{0x00, 0xff, 0x10}, Before: []byte("not json"),
			Metadata: map[string]string{"line": "a\nb\tc\u2028", "ünï": "ok", "ctl": "\x01\x7f<>&"}},
	})
	long := chain(t, "warehouse-eu-central-1-primary", 3, someHash("warehouse/2"), []journal.Entry{
		{Kind: journal.KindChange, SourceID: "pg-dw", SourcePosition: pgPosition(0x9000000, 1), TxID: "99", CommitTime: commit, RecordedAt: rec(9000),
			Table: "reporting." + strings.Repeat("daily_revenue_by_region_", 6) + "ünïcödé_𝔘𝔫𝔦𝔠𝔬𝔡𝔢", Op: journal.OpInsert,
			Key: []byte(`{"day":"2026-11-25"}`), After: []byte(`{"day":"2026-11-25","revenue":"1234.50"}`)},
	})
	names := []string{"tx_begin", "insert", "update", "delete", "truncate", "tx_commit", "snapshot_read", "app_event",
		"mysql_ddl", "edge_values", "long_table_name"}
	var recs []journal.Record
	for _, part := range [][]journal.Record{tx, snap, ddl, edge, long} {
		recs = append(recs, part...)
	}
	if len(recs) != len(names) {
		t.Fatalf("fixture has %d records and %d names", len(recs), len(names))
	}
	cases := make([]fixtureCase, len(recs))
	for i := range recs {
		cases[i] = fixtureCase{names[i], recs[i]}
	}
	return cases
}

// renderFixture renders every case into the golden file's layout: a JSON
// array with one envelope per line.
func renderFixture(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("[\n")
	for i, c := range fixtureCases(t) {
		out, err := Render(&c.rec, fixtureOptions())
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		b.Write(out)
		if i < len(fixtureCases(t))-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]\n")
	return b.Bytes()
}

// TestGolden pins the rendering byte for byte. If it fails because the
// profile changed on purpose, update docs/contracts/hugo.md, run
// go test ./api/hugo -run TestGolden -update, and review the diff: a change
// that is not backward compatible needs a new Profile name.
func TestGolden(t *testing.T) {
	got := renderFixture(t)
	if *update {
		if err := os.WriteFile(goldenPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("read golden (run go test ./api/hugo -run TestGolden -update once): %v", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
		for i := 0; i < min(len(gl), len(wl)); i++ {
			if !bytes.Equal(gl[i], wl[i]) {
				t.Fatalf("%s line %d differs:\n got %s\nwant %s", filepath.Base(goldenPath), i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s: got %d lines, want %d", filepath.Base(goldenPath), len(gl), len(wl))
	}
}
