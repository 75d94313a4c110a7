package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cairnlog/cairn/fixtures"
)

// TestBadConfig checks that every config mistake stops cairnd before it
// touches anything, with an error naming the fix.
func TestBadConfig(t *testing.T) {
	dir := t.TempDir()
	cases := []struct{ name, body, want string }{
		{"no data dir", "sources: [{name: a, type: postgres, dsn: 'postgres://x'}]", "data_dir is required"},
		{"no sources", "data_dir: /tmp/x", "no sources"},
		{"sink without type", "data_dir: /tmp/x\nsources: [{name: a, type: postgres, dsn: x}]\nsinks: [{name: s, stream: a}]", `type "" is not supported`},
		{"sink without url", "data_dir: /tmp/x\nsources: [{name: a, type: postgres, dsn: x}]\nsinks: [{name: s, type: pulsar, stream: a, topic_prefix: p}]", "service_url is required"},
		{"bad compatibility", "data_dir: /tmp/x\nsources: [{name: a, type: postgres, dsn: x, compatibility: lax}]", "compatibility"},
		{"bad compatibility on mysql", "data_dir: /tmp/x\nsources: [{name: a, type: mysql, dsn: 'u@tcp(h:1)/d', compatibility: strict}]", "mysql source a: compatibility"},
		{"mysql table_compatibility without database", "data_dir: /tmp/x\nsources: [{name: a, type: mysql, dsn: 'u@tcp(h:1)/d', table_compatibility: {orders: FULL}}]", `table "orders" is not database.table`},
		{"bad backend", "data_dir: /tmp/x\nsources: [{name: a, type: postgres, dsn: x}]\njournal: {backend: kafka}", `journal.backend "kafka"`},
		{"pulsar without key", "data_dir: /tmp/x\nsources: [{name: a, type: postgres, dsn: x}]\njournal: {backend: pulsar, pulsar: {service_url: 'pulsar://x:1', admin_url: 'http://x:2'}}", "signing_key_file"},
		{"pulsar with encryption", "data_dir: /tmp/x\nencryption_key_file: k\nsources: [{name: a, type: postgres, dsn: x}]\njournal: {backend: pulsar, pulsar: {service_url: 'pulsar://x:1', admin_url: 'http://x:2', signing_key_file: k}}", "encryption_key_file applies to the Badger journal"},
		{"api without tokens file", "data_dir: /tmp/x\nlisten: {http: 127.0.0.1:0}", "auth.tokens_file is not set"},
		{"bad auth mode", "data_dir: /tmp/x\nlisten: {http: 127.0.0.1:0}\nauth: {mode: open}", `auth.mode "open"`},
		{"none with tokens file", "data_dir: /tmp/x\nlisten: {grpc: 127.0.0.1:0}\nauth: {mode: none, tokens_file: t.yaml}", "remove one of them"},
		{"tls half", "data_dir: /tmp/x\nlisten: {grpc: 127.0.0.1:0}\nauth: {mode: none}\ntls: {cert_file: c.pem}", "both cert_file and key_file"},
		{"auth without listen", "data_dir: /tmp/x\nsources: [{name: a, type: postgres, dsn: x}]\nauth: {mode: none}", "nothing listens"},
		{"missing tokens file", "data_dir: " + dir + "/d1\nlisten: {grpc: 127.0.0.1:0}\nauth: {tokens_file: " + dir + "/nope.yaml}", "read tokens file"},
		{"typo in a key", "data_dir: /tmp/x\nsoruces: []", "soruces"},
		{"unknown type", "data_dir: /tmp/x\nsources: [{name: a, type: oracle, dsn: x}]", `type "oracle" is not supported`},
		{"missing dsn", "data_dir: /tmp/x\nsources: [{name: a, type: postgres}]", "dsn is empty"},
		{"bad heartbeat", "data_dir: /tmp/x\nsources: [{name: a, type: postgres, dsn: x, heartbeat_interval: soon}]", "heartbeat_interval"},
		{"bad snapshot", "data_dir: /tmp/x\nsources: [{name: a, type: postgres, dsn: x, snapshot: sometimes}]", "initial or never"},
		{"duplicate names", "data_dir: /tmp/x\nsources: [{name: a, type: postgres, dsn: x}, {name: a, type: postgres, dsn: y}]", "two sources are named"},
		{"bad slot name", "data_dir: /tmp/x\nsources: [{name: a, type: postgres, dsn: x, slot: Bad-Slot}]", "slot"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".yaml")
			if err := os.WriteFile(path, []byte(tc.body), 0o600); err != nil {
				t.Fatal(err)
			}
			err := run([]string{"--config", path})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if err := run(nil); err == nil || !strings.Contains(err.Error(), "--config") {
		t.Fatalf("no --config: %v", err)
	}
	if err := run([]string{"--config", filepath.Join(dir, "missing.yaml")}); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("missing file: %v", err)
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestMetrics scrapes /metrics while cairnd captures.
func TestMetrics(t *testing.T) {
	pg := fixtures.SharedPostgres(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE m (id int PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	addr := freeAddr(t)
	config := filepath.Join(dir, "cairnd.yaml")
	body := fmt.Sprintf("data_dir: %s\nmetrics_listen: %s\nsources:\n  - {name: shop, type: postgres, dsn: '%s', slot: slot_m, heartbeat_interval: 100ms}\n",
		filepath.Join(dir, "data"), addr, pg.DSN())
	if err := os.WriteFile(config, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, config)
	deadline := time.Now().Add(30 * time.Second)
	inserted := false
	for {
		var active bool
		_ = conn.QueryRow(ctx, `SELECT active FROM pg_replication_slots WHERE slot_name = 'slot_m'`).Scan(&active)
		if active && !inserted {
			if _, err := conn.Exec(ctx, `INSERT INTO m VALUES (1)`); err != nil {
				t.Fatal(err)
			}
			inserted = true
		}
		if inserted {
			if body := scrape(addr); strings.Contains(body, `cairn_journal_head_seq{stream="shop"} 4`) && strings.Contains(body, `cairn_postgres_slot_lag_bytes{slot="slot_m",source="shop"}`) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics never showed the captured transaction and the slot lag:\n%s\n%s", scrape(addr), d.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.term(t)
}

func scrape(addr string) string {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
