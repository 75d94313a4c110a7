package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/hamba/avro/v2/registry"
	"github.com/jackc/pgx/v5"

	"github.com/cairnlog/cairn/api"
	"github.com/cairnlog/cairn/fixtures"
)

// TestAPIServesCapture runs cairnd with a PostgreSQL source and the API on,
// then follows the capture over REST with a token: what a new user does
// after reading docs/api.md.
func TestAPIServesCapture(t *testing.T) {
	pg := fixtures.SharedPostgres(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE api_orders (id int PRIMARY KEY, note text)`); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	secret, hash, err := api.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	tokens := filepath.Join(dir, "tokens.yaml")
	if err := os.WriteFile(tokens, []byte(fmt.Sprintf("tokens:\n  - name: ops\n    sha256: %s\n    grants: [{tenant: '*', role: consumer}]\n", hash)), 0o600); err != nil {
		t.Fatal(err)
	}
	httpAddr, grpcAddr := freeAddr(t), freeAddr(t)
	config := filepath.Join(dir, "cairnd.yaml")
	body := fmt.Sprintf(`data_dir: %s
log_level: warn
listen: {grpc: %s, http: %s}
auth: {mode: tokens, tokens_file: %s}
sources:
  - {name: shop, type: postgres, dsn: '%s', slot: slot_api, publication: pub_api, tables: [public.api_orders], heartbeat_interval: 100ms}
`, filepath.Join(dir, "data"), grpcAddr, httpAddr, tokens, pg.DSN())
	if err := os.WriteFile(config, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, config)

	// Wait until the API answers, then write rows once the slot is active.
	waitSlotActive(t, conn, "slot_api", d)
	for i := 1; i <= 3; i++ {
		if _, err := conn.Exec(ctx, `INSERT INTO api_orders VALUES ($1, 'n')`, i); err != nil {
			t.Fatal(err)
		}
	}

	// Follow over REST, transaction-complete, until the three inserts arrive.
	req, _ := http.NewRequest("GET", "http://"+httpAddr+"/v1/streams/shop:subscribe?tx_complete=true&kinds=change", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(rctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("subscribe: %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	var ids []string
	for len(ids) < 3 && sc.Scan() {
		var e struct{ Kind, Table, Op, After string }
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("NDJSON line: %v: %s", err, sc.Text())
		}
		if e.Kind != "change" || e.Table != "public.api_orders" || e.Op != "insert" {
			t.Fatalf("unexpected entry %s", sc.Text())
		}
		ids = append(ids, e.After)
	}
	if len(ids) != 3 || !strings.Contains(ids[2], `"id":3`) {
		t.Fatalf("subscribed rows = %v\n%s", ids, d.logs.String())
	}
	// An independent Confluent-protocol client (hamba/avro's registry)
	// fetches the table's schema from /registry and decodes the stored Avro
	// row image with it.
	hc := &http.Client{Transport: bearerTransport{secret}}
	rc, err := registry.NewClient("http://"+httpAddr+"/registry", registry.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	avroSchema, err := rc.GetLatestSchema(ctx, "shop.public.api_orders")
	if err != nil {
		t.Fatalf("registry client: %v", err)
	}
	ereq, _ := http.NewRequest("GET", "http://"+httpAddr+"/v1/streams/shop/entries?kinds=change&stored_images=true&limit=1", nil)
	ereq.Header.Set("Authorization", "Bearer "+secret)
	eresp, err := http.DefaultClient.Do(ereq)
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Entries []struct {
			StoredAfter []byte `json:"stored_after"`
		}
	}
	err = json.NewDecoder(eresp.Body).Decode(&page)
	eresp.Body.Close()
	if err != nil || len(page.Entries) != 1 || len(page.Entries[0].StoredAfter) == 0 {
		t.Fatalf("stored images: %v %+v", err, page)
	}
	var row map[string]any
	if err := avro.Unmarshal(avroSchema, page.Entries[0].StoredAfter, &row); err != nil {
		t.Fatalf("decode the stored row with the fetched schema: %v", err)
	}
	if fmt.Sprint(row["id"]) != "1" {
		t.Fatalf("decoded row %v, want id 1", row)
	}

	// Without the token the API refuses.
	r2, err := http.Get("http://" + httpAddr + "/v1/streams")
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != 401 {
		t.Fatalf("no token: %d, want 401", r2.StatusCode)
	}
	cancel()
	d.term(t)
}

// bearerTransport adds a bearer token to every request.
type bearerTransport struct{ token string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}
