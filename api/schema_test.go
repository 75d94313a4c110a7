package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	cairnv1 "github.com/cairnlog/cairn/api/cairnv1"
	"github.com/cairnlog/cairn/api/client"
	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/schema"
)

// recordSchemas appends schema entries the way capture records versions:
// payload = the registration, table and fingerprint set.
func recordSchemas(t *testing.T, s journal.Store, stream string, tables ...schema.Table) []schema.Fingerprint {
	t.Helper()
	reg, _ := schema.NewRegistry(schema.DefaultConfig())
	var es []journal.Entry
	var fps []schema.Fingerprint
	for i, tbl := range tables {
		sc, err := schema.Derive(tbl)
		if err != nil {
			t.Fatal(err)
		}
		b, err := schema.MarshalRegistration(reg.Registration(tbl.Subject(), sc))
		if err != nil {
			t.Fatal(err)
		}
		fp := schema.FingerprintOf(sc)
		fps = append(fps, fp)
		es = append(es, journal.Entry{Kind: journal.KindSchema, Table: tbl.Namespace + "." + tbl.Name, Payload: b,
			SchemaFingerprint: fp[:], SourcePosition: []byte(fmt.Sprintf("%08d", i+1))})
	}
	if _, err := s.Append(context.Background(), stream, es); err != nil {
		t.Fatal(err)
	}
	return fps
}

func items(cols ...schema.Column) schema.Table {
	return schema.Table{Source: "src", Namespace: "public", Name: "items", Flavor: schema.Postgres, Key: []string{"id"},
		Columns: append([]schema.Column{{Name: "id", Type: "int4"}}, cols...)}
}

func TestSchemaEndpoints(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil, "", "")
	name := schema.Column{Name: "name", Type: "text", Nullable: true}
	qty := schema.Column{Name: "qty", Type: "int4"} // NOT NULL, no default: not backward compatible
	fps := recordSchemas(t, ts.store, "src", items(), items(name), items(name, qty))
	u := ts.base

	r := do(t, "GET", u+"/v1/schemas/subjects", "", "")
	if subs := r.json(t)["subjects"].([]any); len(subs) != 1 || subs[0] != "src.public.items" {
		t.Fatalf("subjects = %s", r.body)
	}
	r = do(t, "GET", u+"/v1/schemas/subjects/src.public.items/versions", "", "")
	if vs := r.json(t)["versions"].([]any); len(vs) != 3 {
		t.Fatalf("versions = %s", r.body)
	}
	r = do(t, "GET", u+"/v1/schemas/subjects/src.public.items/versions/latest", "", "")
	v := r.json(t)["version"].(map[string]any)
	if v["version"].(float64) != 3 || v["compatible"] == true || v["fingerprint"] != fps[2].String() || v["stream"] != "src" || v["seq"] != "3" {
		t.Fatalf("latest = %s", r.body)
	}
	r = do(t, "GET", u+"/v1/schemas/fingerprints/"+fps[1].String(), "", "")
	if v := r.json(t)["version"].(map[string]any); v["version"].(float64) != 2 || v["compatible"] != true {
		t.Fatalf("by fingerprint = %s", r.body)
	}
	expectError(t, "unknown subject", do(t, "GET", u+"/v1/schemas/subjects/src.public.nope/versions", "", ""), 404, "UNKNOWN_SCHEMA")
	expectError(t, "bad version", do(t, "GET", u+"/v1/schemas/subjects/src.public.items/versions/two", "", ""), 400, "INVALID_ARGUMENT")
	expectError(t, "version 9", do(t, "GET", u+"/v1/schemas/subjects/src.public.items/versions/9", "", ""), 404, "UNKNOWN_SCHEMA")
	expectError(t, "bad fingerprint", do(t, "GET", u+"/v1/schemas/fingerprints/xyz", "", ""), 400, "INVALID_ARGUMENT")

	// Compatibility of a proposal against the latest version.
	widened, _ := schema.DeriveJSON(items(name, qty, schema.Column{Name: "note", Type: "text", Nullable: true}))
	body, _ := json.Marshal(map[string]string{"schema": string(widened)})
	r = do(t, "POST", u+"/v1/schemas/subjects/src.public.items/versions/latest:check", "", string(body))
	if m := r.json(t); m["compatible"] != true || m["mode"] != "BACKWARD" {
		t.Fatalf("check = %s", r.body)
	}
	expectError(t, "invalid schema", do(t, "POST", u+"/v1/schemas/subjects/src.public.items/versions/latest:check", "", `{"schema":"{\"type\":\"nope\"}"}`), 422, "INVALID_SCHEMA")

	// New versions appear without a restart.
	recordSchemas(t, ts.store, "src2", schema.Table{Source: "src2", Namespace: "public", Name: "t", Flavor: schema.Postgres, Columns: []schema.Column{{Name: "a", Type: "text"}}})
	r = do(t, "GET", u+"/v1/schemas/subjects", "", "")
	if subs := r.json(t)["subjects"].([]any); len(subs) != 2 {
		t.Fatalf("subjects after a new stream = %s", r.body)
	}

	// gRPC.
	c, err := client.Dial(ts.grpcAddr, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	gv, err := c.Schemas.GetVersion(context.Background(), &cairnv1.GetVersionRequest{Subject: "src.public.items", Version: "1"})
	if err != nil || gv.Version.Fingerprint != fps[0].String() {
		t.Fatalf("gRPC GetVersion: %v %v", gv, err)
	}
	byID, err := c.Schemas.GetSchemaByID(context.Background(), &cairnv1.GetSchemaByIDRequest{Id: gv.Version.Id})
	if err != nil || byID.Version.Fingerprint != fps[0].String() {
		t.Fatalf("gRPC GetSchemaByID: %v %v", byID, err)
	}
}

func TestConfluentSubset(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil, "", "")
	name := schema.Column{Name: "name", Type: "text", Nullable: true}
	recordSchemas(t, ts.store, "src", items(), items(name))
	u := ts.base + "/registry"

	r := do(t, "GET", u+"/subjects", "", "")
	if r.status != 200 || strings.TrimSpace(string(r.body)) != `["src.public.items"]` {
		t.Fatalf("subjects: %d %s", r.status, r.body)
	}
	r = do(t, "GET", u+"/subjects/src.public.items/versions", "", "")
	if strings.TrimSpace(string(r.body)) != `[1,2]` {
		t.Fatalf("versions: %s", r.body)
	}
	r = do(t, "GET", u+"/subjects/src.public.items/versions/latest", "", "")
	var v struct {
		Subject string
		Version int
		ID      int
		Schema  string
	}
	if err := json.Unmarshal(r.body, &v); err != nil || v.Version != 2 || v.ID == 0 || !strings.Contains(v.Schema, `"name"`) {
		t.Fatalf("latest: %s", r.body)
	}
	r = do(t, "GET", fmt.Sprintf("%s/schemas/ids/%d", u, v.ID), "", "")
	var byID struct{ Schema string }
	if err := json.Unmarshal(r.body, &byID); err != nil || byID.Schema != v.Schema {
		t.Fatalf("by id: %s", r.body)
	}
	// Lookup: a schema spelled differently (whitespace) is found by its canonical form.
	spaced, _ := json.MarshalIndent(json.RawMessage(v.Schema), "", "  ")
	body, _ := json.Marshal(map[string]string{"schema": string(spaced)})
	r = do(t, "POST", u+"/subjects/src.public.items", "", string(body))
	var found struct{ Version int }
	if err := json.Unmarshal(r.body, &found); err != nil || found.Version != 2 {
		t.Fatalf("lookup: %d %s", r.status, r.body)
	}
	r = do(t, "POST", u+"/compatibility/subjects/src.public.items/versions/1", "", string(body))
	if strings.TrimSpace(string(r.body)) != `{"is_compatible":true}` {
		t.Fatalf("compatibility: %s", r.body)
	}
	confluentErr := func(what string, r restResp, status, code int) {
		t.Helper()
		var e struct {
			ErrorCode int `json:"error_code"`
			Message   string
		}
		if err := json.Unmarshal(r.body, &e); err != nil || r.status != status || e.ErrorCode != code || e.Message == "" {
			t.Errorf("%s: %d %s, want %d with error_code %d", what, r.status, r.body, status, code)
		}
	}
	confluentErr("unknown subject", do(t, "GET", u+"/subjects/nope/versions", "", ""), 404, 40401)
	confluentErr("unknown version", do(t, "GET", u+"/subjects/src.public.items/versions/7", "", ""), 404, 40402)
	confluentErr("unknown id", do(t, "GET", u+"/schemas/ids/12345", "", ""), 404, 40403)
	confluentErr("bad schema", do(t, "POST", u+"/subjects/src.public.items", "", `{"schema":"not json"}`), 422, 42201)
	confluentErr("bad version", do(t, "GET", u+"/subjects/src.public.items/versions/x", "", ""), 422, 42202)
	other, _ := schema.DeriveJSON(items(schema.Column{Name: "zzz", Type: "int8", Nullable: true}))
	ob, _ := json.Marshal(map[string]string{"schema": string(other)})
	confluentErr("schema not registered", do(t, "POST", u+"/subjects/src.public.items", "", string(ob)), 404, 40403)
}

// TestHugoSchemaVersion: the Hugo profile's schemaVersion (and so effectId)
// is the registry version of the row's schema.
func TestHugoSchemaVersion(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil, "", "")
	name := schema.Column{Name: "name", Type: "text", Nullable: true}
	v2 := items(name)
	fps := recordSchemas(t, ts.store, "src", items(), v2)
	sc, err := schema.Derive(v2)
	if err != nil {
		t.Fatal(err)
	}
	codec, err := schema.NewCodec(sc)
	if err != nil {
		t.Fatal(err)
	}
	row := []byte(`{"id":7,"name":"seven"}`)
	avroRow, err := codec.Encode(nil, row)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.store.Append(context.Background(), "src", []journal.Entry{
		{Kind: journal.KindChange, Table: "public.items", Op: journal.OpInsert, Key: []byte(`{"id":7}`), After: avroRow, SchemaFingerprint: fps[1][:], SourcePosition: []byte("00000009")},
	}); err != nil {
		t.Fatal(err)
	}
	r := do(t, "GET", ts.base+"/v1/streams/src/entries?from_seq=3&profile=hugo", "", "")
	var page struct{ Entries []map[string]any }
	if err := json.Unmarshal(r.body, &page); err != nil || len(page.Entries) != 1 {
		t.Fatalf("hugo page: %v %s", err, r.body)
	}
	e := page.Entries[0]
	if e["schemaVersion"] != float64(2) || !strings.Contains(e["effectId"].(string), "::v2::src/3") {
		t.Fatalf("schemaVersion %v effectId %v, want version 2", e["schemaVersion"], e["effectId"])
	}
	// The Avro row is rendered back to the captured row JSON.
	after, _ := json.Marshal(e["after"])
	if string(after) != string(row) {
		t.Fatalf("after = %s, want %s", after, row)
	}
}
