package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// variedPayload returns payload i as compact JSON text of many shapes.
func variedPayload(i int) string {
	switch i % 9 {
	case 0:
		return fmt.Sprintf(`{"order":%d,"items":[{"sku":"A-%d","qty":%d},{"sku":"B","qty":1}],"paid":true}`, i, i, i%5)
	case 1:
		return fmt.Sprintf(`[%d,"two",{"three":3},null,false,1.5e3]`, i)
	case 2:
		return fmt.Sprintf(`"h\u00e9llo \"quoted\" line\nbreak #%d ✓"`, i)
	case 3:
		return fmt.Sprint(i * 1000003)
	case 4:
		return fmt.Sprintf(`-%d.25`, i)
	case 5:
		return `null`
	case 6:
		return fmt.Sprintf(`{"deep":{"a":{"b":{"c":[%d,{"d":"x, y: z"}]}}}}`, i)
	case 7:
		return `{}`
	default:
		return fmt.Sprintf(`{"big":"%s"}`, strings.Repeat("abcdefgh", 100+i))
	}
}

// spaced re-formats compact JSON with blanks after ':' and ',' and around
// brackets, leaving strings alone.
func spaced(compact string) string {
	var b strings.Builder
	inString, escaped := false, false
	for _, r := range compact {
		b.WriteRune(r)
		switch {
		case inString && escaped:
			escaped = false
		case inString && r == '\\':
			escaped = true
		case r == '"':
			inString = !inString
		case !inString && (r == ':' || r == ',' || r == '{' || r == '['):
			b.WriteString("  ")
		}
	}
	return b.String()
}

// variedLines builds n input lines; with pretty, payloads carry extra
// whitespace and lines end in CRLF. Some lines omit key or payload.
func variedLines(n int, pretty bool) []string {
	lines := make([]string, n)
	for i := 1; i <= n; i++ {
		p := variedPayload(i)
		if pretty {
			p = spaced(p)
		}
		var line string
		switch i % 10 {
		case 3:
			line = fmt.Sprintf(`{"producer_seq": %d, "payload": %s}`, i, p)
		case 4:
			line = fmt.Sprintf(`{"producer_seq": %d, "key": null, "payload": %s}`, i, p)
		case 5:
			line = fmt.Sprintf(`{"key": "only-key-%d", "producer_seq": %d}`, i, i)
		default:
			line = fmt.Sprintf(`{"producer_seq": %d, "key": "customer/%d", "payload": %s}`, i, i%13, p)
		}
		if pretty {
			line = "  " + line + "\r"
		}
		lines[i-1] = line + "\n"
	}
	return lines
}

func TestAppendDeterministic(t *testing.T) {
	t.Parallel()
	const n = 500
	base := t.TempDir()
	dirA, dirB := filepath.Join(base, "a"), filepath.Join(base, "b")
	linesA := variedLines(n, false)
	inputA := strings.Join(linesA, "")

	// A: one run. B: the same events with other whitespace, in three runs.
	appendEvents(t, dirA, "app", inputA, 1)
	linesB := variedLines(n, true)
	appendEvents(t, dirB, "app", strings.Join(linesB[:123], ""), 1)
	appendEvents(t, dirB, "app", "\n"+strings.Join(linesB[123:400], "")+"\n\n", 124)
	appendEvents(t, dirB, "app", strings.Join(linesB[400:], ""), 401)

	countA, headA := verifyHead(t, dirA)
	countB, headB := verifyHead(t, dirB)
	if countA != fmt.Sprint(n) || countB != fmt.Sprint(n) {
		t.Fatalf("verified %s and %s entries, want %d", countA, countB, n)
	}
	if headA != headB {
		t.Fatalf("head hashes differ: %s vs %s", headA, headB)
	}

	recsA := tailJSONLines(t, "--data-dir", dirA, "--stream", "app")
	recsB := tailJSONLines(t, "--data-dir", dirB, "--stream", "app")
	if len(recsA) != n || len(recsB) != n {
		t.Fatalf("tail printed %d and %d entries, want %d", len(recsA), len(recsB), n)
	}
	for i := range recsA {
		if recsA[i]["hash"] != recsB[i]["hash"] {
			t.Fatalf("seq %d: hash %v vs %v", i+1, recsA[i]["hash"], recsB[i]["hash"])
		}
	}
	if last := recsA[n-1]; last["hash"] != headA || last["seq"] != float64(n) {
		t.Fatalf("tail's last entry is seq %v hash %v, verify says head %s", last["seq"], last["hash"], headA)
	}
	first := recsA[0]
	if first["kind"] != "app_event" || first["producer_id"] != "test" || first["producer_seq"] != float64(1) || first["key"] != "customer/1" {
		t.Fatalf("first entry fields wrong: %v", first)
	}
	if p, ok := first["payload"].([]any); !ok || len(p) != 6 || p[0] != float64(1) || p[1] != "two" {
		t.Fatalf("first payload not embedded as JSON: %v", first["payload"])
	}

	// The same input again: every line is a duplicate with its original seq.
	out := mustCairn(t, inputA, "append", "--data-dir", dirA, "--stream", "app", "--producer", "test")
	res := parseAppendOutput(t, out)
	if len(res) != n {
		t.Fatalf("second append printed %d results, want %d", len(res), n)
	}
	for i, r := range res {
		if !r.Duplicate || r.Seq != uint64(i+1) {
			t.Fatalf("second append line %d: %+v, want seq %d duplicate", i+1, r, i+1)
		}
	}
	if c, h := verifyHead(t, dirA); c != countA || h != headA {
		t.Fatalf("after duplicates: %s entries head %s, want %s head %s", c, h, countA, headA)
	}
}

func TestAppendDuplicateInOneInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := `{"producer_seq": 5, "payload": 1}` + "\n" + `{"producer_seq": 6, "payload": 2}` + "\n" + `{"producer_seq": 5, "payload": 3}` + "\n"
	res := parseAppendOutput(t, mustCairn(t, in, "append", "--data-dir", dir, "--stream", "s", "--producer", "p"))
	want := []appendResult{{1, false}, {2, false}, {1, true}}
	if fmt.Sprint(res) != fmt.Sprint(want) {
		t.Fatalf("results %v, want %v", res, want)
	}
}

func TestAppendBadInput(t *testing.T) {
	t.Parallel()
	good := func(i int) string { return fmt.Sprintf(`{"producer_seq": %d, "payload": {"i": %d}}`, i, i) }
	cases := []struct {
		name, bad, want string
	}{
		{"malformed", `{"producer_seq": 3, "payload": {"i": 3}`, "line 3: invalid JSON"},
		{"missing seq", `{"payload": 3}`, "line 3: missing producer_seq"},
		{"negative seq", `{"producer_seq": -3, "payload": 3}`, "line 3: producer_seq -3 is not a non-negative integer"},
		{"fraction seq", `{"producer_seq": 3.5, "payload": 3}`, "line 3: producer_seq 3.5 is not a non-negative integer"},
		{"string seq", `{"producer_seq": "3", "payload": 3}`, "line 3: producer_seq"},
		{"not an object", `[1, 2, 3]`, "line 3: want a JSON object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			in := good(1) + "\n" + good(2) + "\n" + tc.bad + "\n" + good(4) + "\n" + good(5) + "\n"
			r := cairn(t, in, nil, "append", "--data-dir", dir, "--stream", "s", "--producer", "p")
			line := oneErrorLine(t, r)
			t.Log(line)
			if r.code != 1 || !strings.Contains(line, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 1 mentioning %q", r.code, line, tc.want)
			}
			if res := parseAppendOutput(t, r.stdout); len(res) != 2 || res[0].Seq != 1 || res[1].Seq != 2 {
				t.Fatalf("stdout %q, want results for lines 1 and 2", r.stdout)
			}
			if recs := tailJSONLines(t, "--data-dir", dir, "--stream", "s"); len(recs) != 2 {
				t.Fatalf("tail shows %d entries, want 2", len(recs))
			}
		})
	}
}

func TestAppendUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, args := range [][]string{
		{"append", "--data-dir", dir, "--producer", "p"},                         // no --stream
		{"append", "--data-dir", dir, "--stream", "s"},                           // no --producer
		{"append", "--data-dir", dir, "--stream", "s", "--producer", ""},         // empty producer
		{"append", "--data-dir", dir, "--stream", "bad name", "--producer", "p"}, // invalid stream
		{"append", "--stream", "s", "--producer", "p"},                           // no data dir
	} {
		r := cairn(t, `{"producer_seq": 1}`+"\n", nil, args...)
		oneErrorLine(t, r)
		if r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, r.code, r.stderr)
		}
	}
	// CAIRN_DATA_DIR stands in for --data-dir.
	r := cairn(t, `{"producer_seq": 1}`+"\n", []string{"CAIRN_DATA_DIR=" + dir}, "append", "--stream", "s", "--producer", "p")
	if r.code != 0 || strings.TrimSpace(r.stdout) != `{"seq":1,"duplicate":false}` {
		t.Fatalf("append with CAIRN_DATA_DIR: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}
