package replay

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cairnlog/cairn/journal"
)

func TestParseFilter(t *testing.T) {
	f, err := ParseFilter([]string{"shop.orders", "shop.items, shop.users", "shop.orders"}, []string{"INSERT", "update,delete"}, []string{"change", "TX_BEGIN,tx_commit"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"shop.orders", "shop.items", "shop.users"}; !slices.Equal(f.Tables, want) {
		t.Errorf("tables = %v, want %v", f.Tables, want)
	}
	if want := []journal.Op{journal.OpInsert, journal.OpUpdate, journal.OpDelete}; !slices.Equal(f.Ops, want) {
		t.Errorf("ops = %v, want %v", f.Ops, want)
	}
	if want := []journal.Kind{journal.KindChange, journal.KindTxBegin, journal.KindTxCommit}; !slices.Equal(f.Kinds, want) {
		t.Errorf("kinds = %v, want %v", f.Kinds, want)
	}
	if got, want := f.String(), "tables=shop.orders,shop.items,shop.users ops=insert,update,delete kinds=change,tx_begin,tx_commit"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}

	f, err = ParseFilter(nil, nil, nil)
	if err != nil || !f.IsZero() || f.String() != "all" {
		t.Fatalf("empty filter = %+v, %v", f, err)
	}
	f, err = ParseFilter(nil, []string{"truncate", "ddl"}, []string{"heartbeat", "gap", "app_event", "snapshot_read", "schema", "checkpoint"})
	if err != nil || len(f.Ops) != 2 || len(f.Kinds) != 6 {
		t.Fatalf("filter = %+v, %v", f, err)
	}

	for _, tc := range []struct {
		tables, ops, kinds []string
		want               []string // substrings of the error
	}{
		{ops: []string{"upsert"}, want: []string{`"upsert"`, "insert, update, delete, truncate, ddl"}},
		{ops: []string{""}, want: []string{"ops", "empty"}},
		{ops: []string{"insert,,delete"}, want: []string{"ops", "empty", `"insert,,delete"`}},
		{kinds: []string{"commit"}, want: []string{`"commit"`, "change, tx_begin, tx_commit, schema, snapshot_read, heartbeat, app_event, gap, checkpoint"}},
		{tables: []string{" "}, want: []string{"tables", "empty"}},
	} {
		_, err := ParseFilter(tc.tables, tc.ops, tc.kinds)
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("ParseFilter(%q, %q, %q) = %v, want ErrInvalidArgument", tc.tables, tc.ops, tc.kinds, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("ParseFilter(%q, %q, %q) error %q does not mention %q", tc.tables, tc.ops, tc.kinds, err, w)
			}
		}
	}
}

func TestFilterValidate(t *testing.T) {
	for _, f := range []Filter{
		{Ops: []journal.Op{journal.OpNone}},
		{Ops: []journal.Op{9}},
		{Kinds: []journal.Kind{0}},
		{Tables: []string{""}},
	} {
		if err := f.Validate(); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("Validate(%+v) = %v, want ErrInvalidArgument", f, err)
		}
	}
	if err := (Filter{Tables: []string{"a"}, Ops: []journal.Op{journal.OpDDL}, Kinds: []journal.Kind{journal.KindGap}}).Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestFilterMatch(t *testing.T) {
	rec := func(k journal.Kind, table string, op journal.Op) *journal.Record {
		return &journal.Record{Entry: journal.Entry{Kind: k, Table: table, Op: op}}
	}
	var (
		insOrders  = rec(journal.KindChange, "shop.orders", journal.OpInsert)
		updOrders  = rec(journal.KindChange, "shop.orders", journal.OpUpdate)
		delItems   = rec(journal.KindChange, "shop.items", journal.OpDelete)
		ddlShop    = rec(journal.KindChange, "shop", journal.OpDDL)
		begin      = rec(journal.KindTxBegin, "", journal.OpNone)
		commit     = rec(journal.KindTxCommit, "", journal.OpNone)
		heartbeat  = rec(journal.KindHeartbeat, "", journal.OpNone)
		gap        = rec(journal.KindGap, "", journal.OpNone)
		snapOrders = rec(journal.KindSnapshotRead, "shop.orders", journal.OpNone)
		app        = rec(journal.KindAppEvent, "", journal.OpNone)
	)
	all := []*journal.Record{insOrders, updOrders, delItems, ddlShop, begin, commit, heartbeat, gap, snapOrders, app}
	for _, tc := range []struct {
		name string
		f    Filter
		want []*journal.Record
	}{
		{"empty", Filter{}, all},
		{"tables", Filter{Tables: []string{"shop.orders"}}, []*journal.Record{insOrders, updOrders, snapOrders}},
		{"two tables", Filter{Tables: []string{"shop.orders", "shop.items"}}, []*journal.Record{insOrders, updOrders, delItems, snapOrders}},
		{"ops", Filter{Ops: []journal.Op{journal.OpInsert, journal.OpDDL}}, []*journal.Record{insOrders, ddlShop}},
		{"kinds", Filter{Kinds: []journal.Kind{journal.KindTxBegin, journal.KindTxCommit}}, []*journal.Record{begin, commit}},
		{"kinds change", Filter{Kinds: []journal.Kind{journal.KindChange}}, []*journal.Record{insOrders, updOrders, delItems, ddlShop}},
		{"tables and ops", Filter{Tables: []string{"shop.orders", "shop.items"}, Ops: []journal.Op{journal.OpUpdate, journal.OpDelete}}, []*journal.Record{updOrders, delItems}},
		{"tables with frames asked for", Filter{Tables: []string{"shop.orders"}, Kinds: []journal.Kind{journal.KindChange, journal.KindTxBegin, journal.KindTxCommit}},
			[]*journal.Record{insOrders, updOrders, begin, commit}},
		{"tables with gaps asked for", Filter{Tables: []string{"shop.items"}, Kinds: []journal.Kind{journal.KindChange, journal.KindGap}}, []*journal.Record{delItems, gap}},
		{"ops with frames asked for", Filter{Ops: []journal.Op{journal.OpInsert}, Kinds: []journal.Kind{journal.KindChange, journal.KindTxCommit}}, []*journal.Record{insOrders, commit}},
		{"ops with snapshot asked for", Filter{Ops: []journal.Op{journal.OpInsert}, Kinds: []journal.Kind{journal.KindChange, journal.KindSnapshotRead}}, []*journal.Record{insOrders, snapOrders}},
		{"all three", Filter{Tables: []string{"shop.orders"}, Ops: []journal.Op{journal.OpUpdate}, Kinds: []journal.Kind{journal.KindChange, journal.KindHeartbeat}}, []*journal.Record{updOrders, heartbeat}},
		{"kinds excludes table match", Filter{Tables: []string{"shop.orders"}, Kinds: []journal.Kind{journal.KindSnapshotRead}}, []*journal.Record{snapOrders}},
		{"no match", Filter{Tables: []string{"nope"}}, nil},
	} {
		var got []*journal.Record
		for _, r := range all {
			if tc.f.Match(r) {
				got = append(got, r)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: matched %v, want %v", tc.name, describe(got), describe(tc.want))
		}
	}
}

func describe(rs []*journal.Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Kind.String()+":"+r.Table+":"+r.Op.String())
	}
	return out
}
