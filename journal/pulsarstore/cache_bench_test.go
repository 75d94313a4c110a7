package pulsarstore

import (
	"io"
	"log/slog"
	"testing"

	"github.com/cairnlog/cairn/journal"
)

func BenchmarkCacheWrite8(b *testing.B) {
	cfg := DefaultConfig("pulsar://x:1", "http://x:1", b.TempDir())
	c, err := openCache(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer c.close()
	id, _ := c.streamID("s")
	seq := uint64(0)
	cr := &journal.CompactRange{}
	for i := 0; i < b.N; i++ {
		recs := make([]indexRec, 8)
		for j := range recs {
			seq++
			var h journal.Hash
			h[0] = byte(seq)
			tree := cr.Append(h, nil)
			recs[j] = indexRec{seq: seq, hash: h, pos: msgPos{1, int64(seq)}, nodes: tree[1:], producer: "w01", pseq: seq}
		}
		if err := c.write(id, recs, cachedHead{seq: seq, last: msgPos{1, int64(seq)}}); err != nil {
			b.Fatal(err)
		}
	}
}
