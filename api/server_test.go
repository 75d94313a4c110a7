package api_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnlog/cairn/api"
	cairnv1 "github.com/cairnlog/cairn/api/cairnv1"
	"github.com/cairnlog/cairn/api/client"
	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/journal/badgerstore"
	"github.com/cairnlog/cairn/replay"
	"github.com/cairnlog/cairn/replay/queue"
	"github.com/cairnlog/cairn/replay/state"
)

// testServer is a real cairnd API (badger journal, state store, queue) on
// loopback ports.
type testServer struct {
	t        *testing.T
	dir      string
	store    *badgerstore.Store
	st       *state.DB
	q        *queue.Manager
	srv      *api.Server
	served   chan error
	grpcAddr string
	base     string // http://host:port
}

func startServer(t *testing.T, dir string, auth *api.Auth, grpcAddr, httpAddr string) *testServer {
	t.Helper()
	if grpcAddr == "" {
		grpcAddr = "127.0.0.1:0"
	}
	if httpAddr == "" {
		httpAddr = "127.0.0.1:0"
	}
	store, err := badgerstore.Open(badgerstore.DefaultConfig(filepath.Join(dir, "journal")))
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(filepath.Join(dir, "state"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := queue.NewManager(store, st, queue.Options{})
	srv, err := api.New(store, replay.NewCheckpoints(store, st), q, api.Config{GRPCListen: grpcAddr, HTTPListen: httpAddr, Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{t: t, dir: dir, store: store, st: st, q: q, srv: srv, served: make(chan error, 1),
		grpcAddr: srv.GRPCAddr(), base: "http://" + srv.HTTPAddr()}
	go func() { ts.served <- srv.Serve() }()
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) stop() {
	if ts.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	ts.srv.Stop(ctx)
	cancel()
	if err := <-ts.served; err != nil {
		ts.t.Errorf("serve: %v", err)
	}
	ts.q.Close()
	ts.st.Close()
	ts.store.Close()
	ts.srv = nil
}

func appendApp(t *testing.T, s journal.Store, stream string, n int, keyOf func(i int) string) {
	t.Helper()
	appendAppAs(t, s, stream, "seed", n, keyOf)
}

func appendAppAs(t *testing.T, s journal.Store, stream, producer string, n int, keyOf func(i int) string) {
	t.Helper()
	var es []journal.Entry
	for i := 0; i < n; i++ {
		es = append(es, journal.Entry{Kind: journal.KindAppEvent, ProducerID: producer, ProducerSeq: uint64(i + 1),
			Key: []byte(keyOf(i)), Payload: []byte(fmt.Sprintf(`{"n":%d}`, i))})
	}
	if _, err := s.Append(context.Background(), stream, es); err != nil {
		t.Fatal(err)
	}
}

// appendTxs writes n CDC-shaped transactions of two changes each.
func appendTxs(t *testing.T, s journal.Store, stream string, n int, openTail bool) {
	t.Helper()
	var es []journal.Entry
	pos := func(tx, i int) []byte { return []byte(fmt.Sprintf("%08d%08d", tx, i)) }
	for tx := 1; tx <= n; tx++ {
		tid := fmt.Sprint(tx)
		es = append(es,
			journal.Entry{Kind: journal.KindTxBegin, TxID: tid, SourcePosition: pos(tx, 0)},
			journal.Entry{Kind: journal.KindChange, TxID: tid, Table: "public.orders", Op: journal.OpInsert, Key: []byte(fmt.Sprintf(`{"id":%d}`, tx)), After: []byte(fmt.Sprintf(`{"id":%d}`, tx)), SourcePosition: pos(tx, 1)},
			journal.Entry{Kind: journal.KindChange, TxID: tid, Table: "public.items", Op: journal.OpUpdate, Key: []byte(fmt.Sprintf(`{"id":%d}`, tx)), Before: []byte(`{"id":1}`), After: []byte(`{"id":2}`), SourcePosition: pos(tx, 2)},
		)
		if !(openTail && tx == n) {
			es = append(es, journal.Entry{Kind: journal.KindTxCommit, TxID: tid, SourcePosition: pos(tx, 3)})
		}
	}
	if _, err := s.Append(context.Background(), stream, es); err != nil {
		t.Fatal(err)
	}
}

type restResp struct {
	status int
	body   []byte
}

func (r restResp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not JSON: %v: %s", err, r.body)
	}
	return m
}

func do(t *testing.T, method, url, token string, body string) restResp {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return restResp{status: resp.StatusCode, body: b}
}

// expectError checks an error response: HTTP status and catalog code.
func expectError(t *testing.T, what string, r restResp, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: status %d, want %d: %s", what, r.status, status, r.body)
		return
	}
	var body struct{ Code, Message string }
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Errorf("%s: error body is not JSON: %s", what, r.body)
		return
	}
	if body.Code != code || body.Message == "" {
		t.Errorf("%s: code %q message %q, want code %s and a message", what, body.Code, body.Message, code)
	}
}

func TestRESTJournalEndpoints(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil, "", "")
	appendTxs(t, ts.store, "pg", 10, false)
	u := ts.base

	r := do(t, "GET", u+"/v1/streams", "", "")
	if r.status != 200 {
		t.Fatalf("list streams: %d %s", r.status, r.body)
	}
	streams := r.json(t)["streams"].([]any)
	head := streams[0].(map[string]any)
	if head["stream"] != "pg" || head["seq"] != "40" || head["tree_size"] != "40" || len(head["hash"].(string)) != 64 {
		t.Fatalf("stream head = %v", head)
	}

	// Paging: 40 entries in pages of 15 come back in order, each once.
	var seqs []string
	next := "1"
	for i := 0; i < 5 && next != "41"; i++ {
		r = do(t, "GET", u+"/v1/streams/pg/entries?from_seq="+next+"&limit=15", "", "")
		m := r.json(t)
		for _, e := range m["entries"].([]any) {
			seqs = append(seqs, e.(map[string]any)["seq"].(string))
		}
		next = m["next_seq"].(string)
	}
	if len(seqs) != 40 || seqs[0] != "1" || seqs[39] != "40" {
		t.Fatalf("paged seqs = %v", seqs)
	}
	// Filters.
	r = do(t, "GET", u+"/v1/streams/pg/entries?tables=public.items&ops=update&limit=100", "", "")
	es := r.json(t)["entries"].([]any)
	if len(es) != 10 {
		t.Fatalf("filtered entries = %d, want 10: %s", len(es), r.body)
	}
	if e := es[0].(map[string]any); e["table"] != "public.items" || e["op"] != "update" || e["before"] != `{"id":1}` {
		t.Fatalf("filtered entry = %v", e)
	}

	// Append is idempotent by (producer_id, producer_seq).
	body := `{"events":[{"producer_id":"billing","producer_seq":"1","key":"YQ==","payload":"eyJ4IjoxfQ=="},{"producer_id":"billing","producer_seq":"2","payload":"e30="}]}`
	r = do(t, "POST", u+"/v1/streams/app/entries:append", "", body)
	if r.status != 200 {
		t.Fatalf("append: %d %s", r.status, r.body)
	}
	first := string(r.body)
	r = do(t, "POST", u+"/v1/streams/app/entries:append", "", body)
	res := r.json(t)["results"].([]any)
	if res[0].(map[string]any)["seq"] != "1" || res[0].(map[string]any)["duplicate"] != true || res[1].(map[string]any)["seq"] != "2" {
		t.Fatalf("retried append = %s (first %s)", r.body, first)
	}

	// Checkpoint, inclusion and consistency proofs verify offline.
	r = do(t, "GET", u+"/v1/streams/pg/checkpoint", "", "")
	cpm := r.json(t)
	cp, err := journal.OpenCheckpoint([]byte(cpm["checkpoint"].(string)), cpm["verifier_key"].(string))
	if err != nil || cp.Size != 40 {
		t.Fatalf("checkpoint does not verify: %v %+v", err, cp)
	}
	r = do(t, "GET", u+"/v1/streams/pg/proofs/inclusion?seq=7&tree_size=40", "", "")
	ip := r.json(t)
	proof := journal.InclusionProof{Stream: "pg", Seq: 7, TreeSize: 40, EntryHash: mustHash(t, ip["leaf_hash"]), Root: cp.Root}
	for _, h := range ip["hashes"].([]any) {
		proof.Path = append(proof.Path, mustHash(t, h))
	}
	if err := proof.Verify(); err != nil {
		t.Fatalf("inclusion proof against the signed root: %v", err)
	}
	r = do(t, "GET", u+"/v1/streams/pg/proofs/consistency?from_size=9&to_size=40", "", "")
	cm := r.json(t)
	cproof := journal.ConsistencyProof{Stream: "pg", FromSize: 9, ToSize: 40, FromRoot: mustHash(t, cm["from_root"]), ToRoot: cp.Root}
	for _, h := range cm["hashes"].([]any) {
		cproof.Path = append(cproof.Path, mustHash(t, h))
	}
	if err := cproof.Verify(); err != nil {
		t.Fatalf("consistency proof: %v", err)
	}

	// OpenAPI document.
	r = do(t, "GET", u+"/v1/openapi.json", "", "")
	if r.status != 200 || !bytes.Contains(r.body, []byte(`"/v1/streams/{stream}/entries"`)) {
		t.Fatalf("openapi: %d %.200s", r.status, r.body)
	}

	// Bad inputs get the catalog's status and code.
	expectError(t, "unknown stream", do(t, "GET", u+"/v1/streams/nope/entries", "", ""), 404, "UNKNOWN_STREAM")
	expectError(t, "seq beyond head", do(t, "GET", u+"/v1/streams/pg/entries?from_seq=99", "", ""), 416, "BEYOND_HEAD")
	expectError(t, "negative limit", do(t, "GET", u+"/v1/streams/pg/entries?limit=-1", "", ""), 400, "INVALID_ARGUMENT")
	expectError(t, "bad op filter", do(t, "GET", u+"/v1/streams/pg/entries?ops=upsert", "", ""), 400, "INVALID_ARGUMENT")
	expectError(t, "malformed JSON", do(t, "POST", u+"/v1/streams/app/entries:append", "", `{"events":[`), 400, "INVALID_ARGUMENT")
	expectError(t, "no producer", do(t, "POST", u+"/v1/streams/app/entries:append", "", `{"events":[{"payload":"e30="}]}`), 400, "INVALID_ARGUMENT")
	expectError(t, "bad stream name", do(t, "POST", u+"/v1/streams/bad%20name/entries:append", "", body), 400, "INVALID_ARGUMENT")
	expectError(t, "proof beyond head", do(t, "GET", u+"/v1/streams/pg/proofs/inclusion?seq=41", "", ""), 416, "BEYOND_HEAD")
	expectError(t, "consistency from 0", do(t, "GET", u+"/v1/streams/pg/proofs/consistency?from_size=0", "", ""), 400, "INVALID_ARGUMENT")
	expectError(t, "unknown path", do(t, "GET", u+"/v1/nothing", "", ""), 404, "NOT_FOUND")
	expectError(t, "checkpoint unknown stream", do(t, "GET", u+"/v1/streams/nope/checkpoint", "", ""), 404, "UNKNOWN_STREAM")
}

func mustHash(t *testing.T, v any) journal.Hash {
	t.Helper()
	h, err := journal.ParseHash(v.(string))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestRESTSubscriptionsAndCheckpoints(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil, "", "")
	appendTxs(t, ts.store, "pg", 5, true) // the 5th transaction has no commit yet
	u := ts.base

	// NDJSON, stopping at the head; tx_complete holds back the open transaction.
	r := do(t, "GET", u+"/v1/streams/pg:subscribe?no_follow=true&tx_complete=true", "", "")
	lines := strings.Split(strings.TrimSpace(string(r.body)), "\n")
	if r.status != 200 || len(lines) != 16 {
		t.Fatalf("subscribe tx_complete: %d, %d lines: %s", r.status, len(lines), r.body)
	}
	var last map[string]any
	_ = json.Unmarshal([]byte(lines[15]), &last)
	if last["seq"] != "16" || last["kind"] != "tx_commit" {
		t.Fatalf("last delivered = %v", last)
	}
	r = do(t, "GET", u+"/v1/streams/pg:subscribe?no_follow=true", "", "")
	if n := len(strings.Split(strings.TrimSpace(string(r.body)), "\n")); n != 19 {
		t.Fatalf("subscribe without tx_complete: %d lines, want 19", n)
	}
	// Hugo profile: numbers are numbers.
	r = do(t, "GET", u+"/v1/streams/pg:subscribe?no_follow=true&profile=hugo&from_seq=2", "", "")
	var hugoLine map[string]any
	if err := json.Unmarshal([]byte(strings.SplitN(string(r.body), "\n", 2)[0]), &hugoLine); err != nil {
		t.Fatalf("hugo line: %v: %s", err, r.body)
	}
	if seq, ok := hugoLine["sequence"].(float64); !ok || seq != 2 || hugoLine["effectId"] == nil {
		t.Fatalf("hugo profile line = %v", hugoLine)
	}
	r = do(t, "GET", u+"/v1/streams/pg:subscribe?no_follow=true&profile=hugo&progress=true&kinds=tx_commit", "", "")
	hl := strings.Split(strings.TrimSpace(string(r.body)), "\n")
	var prog map[string]map[string]any
	if err := json.Unmarshal([]byte(hl[len(hl)-1]), &prog); err != nil || prog["progress"]["sequence"] != float64(19) || prog["progress"]["caughtUp"] != true {
		t.Fatalf("hugo progress line = %s (%v)", hl[len(hl)-1], err)
	}
	r = do(t, "GET", u+"/v1/streams/pg/entries?profile=hugo&limit=3", "", "")
	if m := r.json(t); len(m["entries"].([]any)) != 3 || m["nextSeq"].(float64) != 4 {
		t.Fatalf("entries?profile=hugo = %s", r.body)
	}
	expectError(t, "bad profile", do(t, "GET", u+"/v1/streams/pg/entries?profile=klingon", "", ""), 400, "INVALID_ARGUMENT")

	// Checkpoints: commit with the delivered hash; a wrong hash is refused distinctly.
	recs, _ := ts.store.Read(context.Background(), "pg", 8, 1)
	good := hex.EncodeToString(recs[0].Hash[:])
	r = do(t, "POST", u+"/v1/streams/pg/subscriptions/audit/checkpoint", "", `{"seq":"8","hash":"`+good+`"}`)
	if r.status != 200 {
		t.Fatalf("commit: %d %s", r.status, r.body)
	}
	bad := strings.Repeat("ab", 32)
	expectError(t, "wrong hash", do(t, "POST", u+"/v1/streams/pg/subscriptions/audit/checkpoint", "", `{"seq":"8","hash":"`+bad+`"}`), 409, "HASH_MISMATCH")
	expectError(t, "malformed hash", do(t, "POST", u+"/v1/streams/pg/subscriptions/audit/checkpoint", "", `{"seq":"8","hash":"xyz"}`), 400, "INVALID_ARGUMENT")
	expectError(t, "checkpoint beyond head", do(t, "POST", u+"/v1/streams/pg/subscriptions/audit/checkpoint", "", `{"seq":"80","hash":"`+good+`"}`), 416, "BEYOND_HEAD")
	expectError(t, "unknown subscription", do(t, "GET", u+"/v1/streams/pg/subscriptions/nobody", "", ""), 404, "UNKNOWN_SUBSCRIPTION")
	// Subscribing by name resumes after the checkpoint.
	r = do(t, "GET", u+"/v1/streams/pg:subscribe?no_follow=true&subscription=audit", "", "")
	var firstLine map[string]any
	_ = json.Unmarshal([]byte(strings.SplitN(string(r.body), "\n", 2)[0]), &firstLine)
	if firstLine["seq"] != "9" {
		t.Fatalf("resume by name starts at %v, want 9", firstLine["seq"])
	}
	expectError(t, "subscribe unknown stream", do(t, "GET", u+"/v1/streams/nope:subscribe?from_seq=5", "", ""), 404, "UNKNOWN_STREAM")
}

func TestRESTQueue(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil, "", "")
	appendApp(t, ts.store, "jobs", 6, func(i int) string { return fmt.Sprint("k", i%2) })
	u := ts.base
	r := do(t, "POST", u+"/v1/streams/jobs/groups/workers:lease", "", `{"max":10,"lease_seconds":30}`)
	leases := r.json(t)["leases"].([]any)
	// Per-key order: only the first entry of each of the two keys is out.
	if len(leases) != 2 {
		t.Fatalf("leased %d entries, want 2 (one per key): %s", len(leases), r.body)
	}
	tok0, _ := json.Marshal(leases[0].(map[string]any)["token"])
	tok1, _ := json.Marshal(leases[1].(map[string]any)["token"])
	r = do(t, "POST", u+"/v1/streams/jobs/groups/workers:ack", "", `{"tokens":[`+string(tok0)+`]}`)
	if s := r.json(t)["settled"].(map[string]any); s["done"].(float64) != 1 {
		t.Fatalf("ack = %s", r.body)
	}
	// Acking the same token again is rejected as inactive, per token.
	r = do(t, "POST", u+"/v1/streams/jobs/groups/workers:ack", "", `{"tokens":[`+string(tok0)+`]}`)
	rej := r.json(t)["settled"].(map[string]any)["rejected"].([]any)
	if len(rej) != 1 || rej[0].(map[string]any)["code"] != "LEASE_INACTIVE" {
		t.Fatalf("second ack = %s", r.body)
	}
	r = do(t, "POST", u+"/v1/streams/jobs/groups/workers:nack", "", `{"tokens":[`+string(tok1)+`],"delay_seconds":3600}`)
	if r.status != 200 {
		t.Fatalf("nack: %s", r.body)
	}
	r = do(t, "GET", u+"/v1/streams/jobs/groups/workers", "", "")
	g := r.json(t)["group"].(map[string]any)
	if g["acked"] != "1" || g["pending"] == nil {
		t.Fatalf("group status = %s", r.body)
	}
	expectError(t, "lease max too big", do(t, "POST", u+"/v1/streams/jobs/groups/workers:lease", "", `{"max":100000}`), 400, "INVALID_ARGUMENT")
	expectError(t, "ack without tokens", do(t, "POST", u+"/v1/streams/jobs/groups/workers:ack", "", `{}`), 400, "INVALID_ARGUMENT")
	expectError(t, "lease unknown stream", do(t, "POST", u+"/v1/streams/nope/groups/workers:lease", "", `{}`), 404, "UNKNOWN_STREAM")
	r = do(t, "GET", u+"/v1/streams/jobs/groups/workers/dead-letters", "", "")
	if r.status != 200 {
		t.Fatalf("dead letters: %d %s", r.status, r.body)
	}
}

func TestGRPCErrorsCarryCatalogCodes(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil, "", "")
	appendTxs(t, ts.store, "pg", 2, false)
	c, err := client.Dial(ts.grpcAddr, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	_, err = c.Journal.ReadEntries(ctx, &cairnv1.ReadEntriesRequest{Stream: "nope"})
	if client.Code(err) != api.CodeUnknownStream {
		t.Fatalf("unknown stream: %v", err)
	}
	_, err = c.Journal.ReadEntries(ctx, &cairnv1.ReadEntriesRequest{Stream: "pg", Limit: -5})
	if client.Code(err) != api.CodeInvalidArgument {
		t.Fatalf("negative limit: %v", err)
	}
	_, err = c.Replay.CommitCheckpoint(ctx, &cairnv1.CommitCheckpointRequest{Stream: "pg", Name: "x", Seq: 1, Hash: strings.Repeat("00", 32)})
	if client.Code(err) != api.CodeHashMismatch {
		t.Fatalf("wrong hash: %v", err)
	}
	resp, err := c.Journal.ReadEntries(ctx, &cairnv1.ReadEntriesRequest{Stream: "pg", Profile: cairnv1.Profile_PROFILE_HUGO})
	if err != nil || len(resp.Entries) != 8 || !strings.Contains(resp.Entries[0].HugoJson, `"sequence":1`) {
		t.Fatalf("hugo over gRPC: %v %v", err, resp)
	}
}
