package main

import (
	"strings"
	"testing"
)

func TestTailRangeAndFormats(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	appendEvents(t, dir, "s", events(1, 10, simplePayload), 1)
	// A non-JSON payload cannot come through append; every one here is JSON.

	recs := tailJSONLines(t, "--data-dir", dir, "--stream", "s", "--from", "3", "--limit", "2")
	if len(recs) != 2 || recs[0]["seq"] != float64(3) || recs[1]["seq"] != float64(4) {
		t.Fatalf("tail --from 3 --limit 2 gave %v", recs)
	}
	if recs[1]["prev_hash"] != recs[0]["hash"] {
		t.Fatalf("prev_hash of seq 4 is %v, hash of seq 3 is %v", recs[1]["prev_hash"], recs[0]["hash"])
	}
	for _, k := range []string{"seq", "kind", "hash", "prev_hash", "producer_id", "producer_seq", "key", "payload", "stream", "recorded_at"} {
		if _, ok := recs[0][k]; !ok {
			t.Errorf("tail JSON lacks %q: %v", k, recs[0])
		}
	}
	for _, k := range []string{"table", "op", "tx_id", "commit_time", "source_position", "before", "after", "metadata", "payload_base64"} {
		if _, ok := recs[0][k]; ok {
			t.Errorf("tail JSON has empty optional field %q: %v", k, recs[0])
		}
	}

	// Reading past the head prints nothing and succeeds.
	if out := mustCairn(t, "", "tail", "--data-dir", dir, "--stream", "s", "--from", "11"); out != "" {
		t.Fatalf("tail past the head printed %q", out)
	}
	// --limit 0 means everything.
	if recs := tailJSONLines(t, "--data-dir", dir, "--stream", "s", "--limit", "0"); len(recs) != 10 {
		t.Fatalf("tail --limit 0 printed %d entries, want 10", len(recs))
	}

	out := mustCairn(t, "", "tail", "--data-dir", dir, "--stream", "s", "--format", "table", "--limit", "3")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("table has %d lines, want a header and 3 rows:\n%s", len(lines), out)
	}
	header := strings.Fields(lines[0])
	if strings.Join(header, " ") != "SEQ KIND TABLE OP KEY HASH DATA" {
		t.Fatalf("table header %q", lines[0])
	}
	row := strings.Fields(lines[1])
	if row[0] != "1" || row[1] != "app_event" || len(row[5]) != 12 {
		t.Fatalf("table row %q", lines[1])
	}
}
