package main

import (
	"context"
	"strings"
	"testing"

	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/journal/badgerstore"
	"github.com/cairnlog/cairn/schema"
)

func TestSchemaCommands(t *testing.T) {
	dir := t.TempDir()
	store, err := badgerstore.Open(badgerstore.DefaultConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := schema.NewRegistry(schema.DefaultConfig())
	id := schema.Column{Name: "id", Type: "int4"}
	versions := [][]schema.Column{
		{id, {Name: "name", Type: "text", Nullable: true}},
		{id, {Name: "name", Type: "text", Nullable: true}, {Name: "qty", Type: "int4"}},
	}
	var es []journal.Entry
	for i, cols := range versions {
		tbl := schema.Table{Source: "shop", Namespace: "public", Name: "items", Flavor: schema.Postgres, Key: []string{"id"}, Columns: cols}
		sc, err := schema.Derive(tbl)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := reg.Register(tbl.Subject(), sc); err != nil {
			t.Fatal(err)
		}
		b, _ := schema.MarshalRegistration(reg.Registration(tbl.Subject(), sc))
		fp := schema.FingerprintOf(sc)
		es = append(es, journal.Entry{Kind: journal.KindSchema, Table: "public.items", Payload: b, SchemaFingerprint: fp[:], SourcePosition: []byte{byte(i + 1)}})
	}
	if _, err := store.Append(context.Background(), "shop", es); err != nil {
		t.Fatal(err)
	}
	store.Close()

	list := cairn(t, "", nil, "schema", "list", "--data-dir", dir)
	if list.code != 0 || !strings.Contains(list.stdout, "shop.public.items") || !strings.Contains(list.stdout, "BACKWARD") {
		t.Fatalf("schema list: %d\n%s%s", list.code, list.stdout, list.stderr)
	}
	show := cairn(t, "", nil, "schema", "show", "shop.public.items", "--version", "1", "--data-dir", dir)
	if show.code != 0 || !strings.Contains(show.stdout, "version:     1") || !strings.Contains(show.stdout, `"name": "name"`) {
		t.Fatalf("schema show: %d\n%s%s", show.code, show.stdout, show.stderr)
	}
	diff := cairn(t, "", nil, "schema", "diff", "shop.public.items", "1", "2", "--data-dir", dir)
	if diff.code != 0 || !strings.Contains(diff.stdout, "+ qty:") || !strings.Contains(diff.stdout, "compatible false") {
		t.Fatalf("schema diff: %d\n%s%s", diff.code, diff.stdout, diff.stderr)
	}
	missing := cairn(t, "", nil, "schema", "show", "shop.public.nope", "--data-dir", dir)
	if missing.code == 0 || !strings.Contains(missing.stderr, "not found") {
		t.Fatalf("unknown subject: %d %s", missing.code, missing.stderr)
	}
	bad := cairn(t, "", nil, "schema", "diff", "shop.public.items", "one", "2", "--data-dir", dir)
	if bad.code == 0 || !strings.Contains(bad.stderr, "versions must be numbers") {
		t.Fatalf("bad diff args: %d %s", bad.code, bad.stderr)
	}
}
