package hugo

import (
	"strings"
	"testing"

	"github.com/cairnlog/cairn/journal"
)

func TestChangeIDRules(t *testing.T) {
	e := func(stream string, k journal.Kind, table string) *journal.Entry {
		return &journal.Entry{Stream: stream, Kind: k, Table: table}
	}
	for _, c := range []struct {
		e    *journal.Entry
		want string
	}{
		{e("shop", journal.KindChange, "public.orders"), "cairn.shop.public.orders"},
		{e("shop", journal.KindSnapshotRead, "public.orders"), "cairn.shop.public.orders"},
		{e("shop", journal.KindTxBegin, ""), "cairn.shop.tx_begin"},
		{e("shop", journal.KindSchema, "public.orders"), "cairn.shop.schema"},
		{e("shop", journal.KindChange, ""), "cairn.shop.change"},
		{e("shop", journal.KindAppEvent, ""), "cairn.shop.app_event"},
	} {
		if got := ChangeID(c.e); got != c.want {
			t.Errorf("ChangeID(%s %s %q) = %q, want %q", c.e.Stream, c.e.Kind, c.e.Table, got, c.want)
		}
	}
}

// TestChangeIDLengths drives the shortening rule across its boundary, with
// ASCII, 2- and 4-byte (surrogate pair) characters and invalid UTF-8, for the
// shortest and longest stream names, and checks the result against the
// independent rule in contract_test.go and the 256-unit effectId limit.
func TestChangeIDLengths(t *testing.T) {
	units := []string{"a", "é", "𝔘", "\xff"}
	for _, stream := range []string{"s", "shop", strings.Repeat("w", 86), strings.Repeat("x", 107), strings.Repeat("z", 128)} {
		limit := ChangeIDLimit(len(stream))
		for _, u := range units {
			for n := 0; n < 240; n++ {
				table := "t." + strings.Repeat("a", n%3) + strings.Repeat(u, n)
				en := &journal.Entry{Stream: stream, Seq: 1<<63 - 1, Kind: journal.KindChange, Table: table}
				got := ChangeID(en)
				if want := wantChangeID(en); got != want {
					t.Fatalf("stream %d chars, table %q: ChangeID = %q, want %q", len(stream), table, got, want)
				}
				if utf16Units(got) > limit {
					t.Fatalf("ChangeID %q is %d units, over the limit %d", got, utf16Units(got), limit)
				}
				id := EffectID(got, 1<<31-1, stream, en.Seq)
				if n := utf16Units(string([]rune(id))); n > MaxEffectIDLen {
					t.Fatalf("EffectID %q is %d units", id, n)
				}
			}
		}
	}
}

func TestEffectID(t *testing.T) {
	if got := EffectID("cairn.shop.public.orders", 3, "shop", 42); got != "cairn.shop.public.orders::v3::shop/42" {
		t.Errorf("EffectID = %q", got)
	}
}
