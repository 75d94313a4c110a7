package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/hamba/avro/v2/registry"

	"github.com/cairnlog/cairn/fixtures"
)

// TestAPIServesMySQLCapture runs cairnd with a MySQL source and the API,
// then reads the captured rows as a Hugo host would (REST NDJSON, Hugo
// profile) and decodes a stored Avro row with the schema an independent
// Confluent-protocol client fetches from /registry.
func TestAPIServesMySQLCapture(t *testing.T) {
	m := fixtures.SharedMySQL(t)
	db, err := sql.Open("mysql", m.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE accounts (id BIGINT UNSIGNED PRIMARY KEY, balance DECIMAL(12,2) NOT NULL,
		kind ENUM('basic','gold') NOT NULL, opened DATETIME(3), doc JSON)`); err != nil {
		t.Fatal(err)
	}
	var start string
	if err := db.QueryRow(`SELECT @@gtid_executed`).Scan(&start); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	httpAddr, grpcAddr := freeAddr(t), freeAddr(t)
	config := filepath.Join(dir, "cairnd.yaml")
	body := fmt.Sprintf(`data_dir: %s
log_level: warn
listen: {grpc: %s, http: %s}
auth: {mode: none}
sources:
  - {name: bank, type: mysql, dsn: '%s', server_id: 7301, start_gtid: '%s', tables: [%s.accounts]}
`, filepath.Join(dir, "data"), grpcAddr, httpAddr, m.DSN(), start, m.Database())
	if err := os.WriteFile(config, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, config)
	if _, err := db.Exec(`INSERT INTO accounts VALUES (18446744073709551615, 12.50, 'gold', '2026-11-26 10:00:00.125', '{"tier": [1, 2]}')`); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var hugo struct {
		Table, Op, TxID string
		SchemaID        string         `json:"schemaId"`
		SchemaVersion   int            `json:"schemaVersion"`
		EntityKey       string         `json:"entityKey"`
		After           map[string]any `json:"after"`
	}
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+httpAddr+"/v1/streams/bank:subscribe?kinds=change&profile=hugo", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			if ctx.Err() != nil {
				t.Fatalf("subscribe: %v %v\n%s", err, resp, d.logs.String())
			}
			if resp != nil {
				resp.Body.Close()
			}
			time.Sleep(100 * time.Millisecond) // the API or the stream is not there yet
			continue
		}
		sc := bufio.NewScanner(resp.Body)
		ok := sc.Scan()
		if ok {
			err = json.Unmarshal(sc.Bytes(), &hugo)
		}
		resp.Body.Close()
		if !ok || err != nil {
			t.Fatalf("Hugo line: %v %v", ok, err)
		}
		break
	}
	wantAfter := `map[balance:12.50 doc:{"tier":[1,2]} id:1.8446744073709552e+19 kind:gold opened:2026-11-26 10:00:00.125]`
	if hugo.Table != m.Database()+".accounts" || hugo.Op != "insert" || hugo.SchemaVersion != 1 || len(hugo.SchemaID) != 64 ||
		hugo.EntityKey != `{"id":18446744073709551615}` || fmt.Sprint(hugo.After) != wantAfter {
		t.Fatalf("Hugo entry %+v\nafter %v, want %s", hugo, hugo.After, wantAfter)
	}

	// hamba/avro's registry client fetches the table's schema and decodes
	// the stored Avro image with it.
	rc, err := registry.NewClient("http://" + httpAddr + "/registry")
	if err != nil {
		t.Fatal(err)
	}
	avroSchema, err := rc.GetLatestSchema(ctx, "bank."+m.Database()+".accounts")
	if err != nil {
		t.Fatalf("registry client: %v", err)
	}
	resp, err := http.Get("http://" + httpAddr + "/v1/streams/bank/entries?kinds=change&stored_images=true&limit=1")
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Entries []struct {
			StoredAfter []byte `json:"stored_after"`
		}
	}
	err = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if err != nil || len(page.Entries) != 1 {
		t.Fatalf("stored images: %v %+v", err, page)
	}
	var row map[string]any
	if err := avro.Unmarshal(avroSchema, page.Entries[0].StoredAfter, &row); err != nil {
		t.Fatalf("decode the stored row with the fetched schema: %v", err)
	}
	if fmt.Sprint(row["kind"]) != "gold" {
		t.Fatalf("decoded row %v, want kind gold", row)
	}
	cancel()
	d.term(t)
}
