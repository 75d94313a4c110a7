package main

import (
	"strings"
	"testing"
)

func TestWorkloadGTIDs(t *testing.T) {
	const u = "48936191-e97c-11f1-9dea-02fc00000001"
	for _, tc := range []struct {
		fn                         func(string, int) (string, string, string, error)
		before                     string
		txs                        int
		first, last, after, errMsg string
	}{
		{fn: mariadbWorkloadGTIDs, before: "0-1-2", txs: 150, first: "0-1-3", last: "0-1-152", after: "0-1-152"},
		{fn: mariadbWorkloadGTIDs, before: "0-1-2,1-1-5", txs: 1, errMsg: "want one GTID"},
		{fn: mariadbWorkloadGTIDs, before: "", txs: 1, errMsg: "want one GTID"},
		{fn: mysqlWorkloadGTIDs, before: u + ":1-2", txs: 150, first: u + ":3", last: u + ":152", after: u + ":1-152"},
		{fn: mysqlWorkloadGTIDs, before: u + ":1", txs: 2, first: u + ":2", last: u + ":3", after: u + ":1-3"},
		{fn: mysqlWorkloadGTIDs, before: u + ":1-2,\n" + u + ":4", txs: 1, errMsg: "want one uuid:lo-hi"},
		{fn: mysqlWorkloadGTIDs, before: u + ":1-2:4", txs: 1, errMsg: "want one uuid:lo-hi"},
		{fn: mysqlWorkloadGTIDs, before: "", txs: 1, errMsg: "want one uuid:lo-hi"},
	} {
		first, last, after, err := tc.fn(tc.before, tc.txs)
		if tc.errMsg != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errMsg) {
				t.Errorf("%q: err %v, want %q", tc.before, err, tc.errMsg)
			}
			continue
		}
		if err != nil || first != tc.first || last != tc.last || after != tc.after {
			t.Errorf("%q + %d: %s %s %s %v; want %s %s %s", tc.before, tc.txs, first, last, after, err, tc.first, tc.last, tc.after)
		}
	}
}

func TestGTIDLines(t *testing.T) {
	for _, tc := range []struct {
		fn   func([]byte) (string, bool)
		line string
		want string // "" for no GTID
	}{
		{mariadbGTIDLine, "#261126  5:03:02 server id 1  end_log_pos 421 CRC32 0x0a0b0c0d \tGTID 0-1-2 trans", "0-1-2"},
		{mariadbGTIDLine, "#261126  5:03:02 server id 1  end_log_pos 198 CRC32 0x0a0b0c0d \tGtid list [0-1-1]", ""},
		{mariadbGTIDLine, "### INSERT INTO `cairn`.`orders`", ""},
		{mysqlGTIDLine, "SET @@SESSION.GTID_NEXT= 'f0945f5c-e97b-11f1-ba57-02fc00000001:3'/*!*/;", "f0945f5c-e97b-11f1-ba57-02fc00000001:3"},
		{mysqlGTIDLine, "SET @@SESSION.GTID_NEXT= 'AUTOMATIC' /* added by mysqlbinlog */ /*!*/;", ""},
		{mysqlGTIDLine, "#261126  9:29:59 server id 1  end_log_pos 277 CRC32 0xde83d6ea \tGTID\tlast_committed=0", ""},
	} {
		got, ok := tc.fn([]byte(tc.line))
		if ok != (tc.want != "") || got != tc.want {
			t.Errorf("%q: %q, %v; want %q", tc.line, got, ok, tc.want)
		}
	}
}
