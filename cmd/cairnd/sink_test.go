package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/jackc/pgx/v5"

	"github.com/cairnlog/cairn/fixtures"
)

// TestPulsarSink runs cairnd with a PostgreSQL source and a Pulsar sink:
// inserted rows arrive on the table's topic, keyed by primary key.
func TestPulsarSink(t *testing.T) {
	pg := fixtures.SharedPostgres(t)
	pl := fixtures.SharedPulsar(t)
	ctx := context.Background()
	if err := pl.SetDeduplication(ctx, true); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, pg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE sunk (id int PRIMARY KEY, v text)`); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "cairnd.yaml")
	body := fmt.Sprintf(`data_dir: %s
log_level: info
sources:
  - {name: shop, type: postgres, dsn: '%s', slot: slot_sink, publication: pub_sink, tables: [public.sunk], heartbeat_interval: 100ms}
sinks:
  - {name: to-pulsar, type: pulsar, stream: shop, service_url: '%s', topic_prefix: '%s'}
`, filepath.Join(dir, "data"), pg.DSN(), pl.ServiceURL(), pl.Topic("shop."))
	if err := os.WriteFile(config, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, config)
	waitSlotActive(t, conn, "slot_sink", d)
	if _, err := conn.Exec(ctx, `INSERT INTO sunk VALUES (1, 'a'), (2, 'b'), (3, 'c')`); err != nil {
		t.Fatal(err)
	}
	client, err := pulsar.NewClient(pulsar.ClientOptions{URL: pl.ServiceURL()})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	r, err := client.CreateReader(pulsar.ReaderOptions{Topic: pl.Topic("shop.public.sunk"), StartMessageID: pulsar.EarliestMessageID()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// A bound, not a timing claim: under CI load two Pulsar brokers share
	// the two cores with the other test binaries. The daemon logs at info,
	// so a miss shows whether capture, the sink's producer or the send lagged.
	rctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	for i := 1; i <= 3; i++ {
		m, err := r.Next(rctx)
		if err != nil {
			t.Fatalf("message %d never arrived: %v\n%s", i, err, d.logs.String())
		}
		if want := fmt.Sprintf(`{"id":%d}`, i); m.Key() != want || m.Properties()["cairn.op"] != "insert" || len(m.Properties()["cairn.schema"]) != 64 {
			t.Fatalf("message %d: key %q props %v", i, m.Key(), m.Properties())
		}
		// The row is rendered from the stored Avro back to row JSON.
		if want := fmt.Sprintf(`"after":{"id":%d,"v":"%c"}`, i, 'a'+i-1); !strings.Contains(string(m.Payload()), want) {
			t.Fatalf("message %d payload %s, want it to contain %s", i, m.Payload(), want)
		}
	}
	d.term(t)
}
