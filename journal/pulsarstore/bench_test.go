package pulsarstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cairnlog/cairn/fixtures"
)

// BenchmarkAppendVsRawProducer reports Append throughput against a raw
// producer (dedup on, batching off, same payload sizes) on a dedicated
// broker with the full JIT, in one run, alternating the two sides in
// rounds. Label: "Pulsar standalone, one bookie".
//
//	CI=true go test ./journal/pulsarstore -run '^$' -bench AppendVsRaw -benchtime 1x
func BenchmarkAppendVsRawProducer(b *testing.B) {
	p := fixtures.StartPulsar(b, fixtures.PulsarOptions{JVMOptions: []string{"-XX:TieredStopAtLevel=4"}})
	for _, size := range []int{256, 4096} {
		b.Run(byteSize(size), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				cfg := testConfig(b, p, b.TempDir(), testKeyFile(b))
				cfg.Logger = nil
				res, err := CompareThroughput(ctx, BenchConfig{Store: cfg, PayloadBytes: size})
				cancel()
				if err != nil {
					b.Fatal(err)
				}
				b.Logf("Pulsar standalone, one bookie: %s", res)
				b.ReportMetric(res.StoreRate, "store-entries/s")
				b.ReportMetric(res.RawRate, "raw-msgs/s")
				b.ReportMetric(res.Ratio, "ratio")
			}
		})
	}
}

func byteSize(n int) string { return fmt.Sprintf("payload-%dB", n) }
