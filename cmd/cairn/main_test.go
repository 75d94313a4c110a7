package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// cairnBin is the binary built once by TestMain; every test runs it as a
// real process. It is set before any test runs and never changed after.
var cairnBin string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "cairn-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	cairnBin = filepath.Join(dir, "cairn")
	build := exec.Command("go", "build", "-o", cairnBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "go build:", err)
		return 1
	}
	return m.Run()
}

// result is what one cairn invocation produced.
type result struct {
	stdout string
	stderr string
	code   int
}

// cairn runs the binary with stdin and args, with CAIRN_* variables removed
// from the environment unless env sets them.
func cairn(t *testing.T, stdin string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(cairnBin, args...)
	cmd.Env = append(cleanEnv(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run cairn %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CAIRN_") {
			env = append(env, kv)
		}
	}
	return env
}

// mustCairn runs cairn and fails the test unless it exits 0.
func mustCairn(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	r := cairn(t, stdin, nil, args...)
	if r.code != 0 {
		t.Fatalf("cairn %s: exit %d\nstderr: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// events builds n JSONL lines for producer_seq from first on.
func events(first, n int, payload func(i int) string) string {
	var b strings.Builder
	for i := first; i < first+n; i++ {
		fmt.Fprintf(&b, `{"producer_seq": %d, "key": "k-%d", "payload": %s}`+"\n", i, i%7, payload(i))
	}
	return b.String()
}

func simplePayload(i int) string { return fmt.Sprintf(`{"n": %d, "marker": "seq-%04d"}`, i, i) }

// appendEvents appends lines to stream and checks the output has one
// non-duplicate result per line, with consecutive seqs from firstSeq.
func appendEvents(t *testing.T, dir, stream, lines string, firstSeq uint64) {
	t.Helper()
	out := mustCairn(t, lines, "append", "--data-dir", dir, "--stream", stream, "--producer", "test")
	res := parseAppendOutput(t, out)
	want := 0
	for _, l := range strings.Split(lines, "\n") {
		if strings.TrimSpace(l) != "" {
			want++
		}
	}
	if len(res) != want {
		t.Fatalf("append printed %d results for %d lines", len(res), want)
	}
	for i, r := range res {
		if r.Duplicate || r.Seq != firstSeq+uint64(i) {
			t.Fatalf("result %d = %+v, want seq %d not duplicate", i, r, firstSeq+uint64(i))
		}
	}
}

func parseAppendOutput(t *testing.T, out string) []appendResult {
	t.Helper()
	var res []appendResult
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var r appendResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("append output line %q: %v", sc.Text(), err)
		}
		res = append(res, r)
	}
	return res
}

// tailJSONLines runs tail --format json and decodes every line.
func tailJSONLines(t *testing.T, args ...string) []map[string]any {
	t.Helper()
	out := mustCairn(t, "", append([]string{"tail", "--format", "json"}, args...)...)
	var recs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("tail line %q: %v", sc.Text(), err)
		}
		recs = append(recs, m)
	}
	return recs
}

var verifiedRE = regexp.MustCompile(`(?m)^verified (\d+) entries, head ([0-9a-f]{64})$`)

// verifyHead runs verify and returns the entry count and head from its total line.
func verifyHead(t *testing.T, dir string, args ...string) (string, string) {
	t.Helper()
	out := mustCairn(t, "", append([]string{"verify", "--data-dir", dir}, args...)...)
	m := verifiedRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("verify output has no 'verified N entries, head H' line:\n%s", out)
	}
	return m[1], m[2]
}

// oneErrorLine checks that stderr is a single "cairn: ..." line and returns it.
func oneErrorLine(t *testing.T, r result) string {
	t.Helper()
	if r.code == 0 {
		t.Fatalf("exit 0, want failure; stdout: %s", r.stdout)
	}
	s := strings.TrimRight(r.stderr, "\n")
	if strings.Contains(s, "\n") || !strings.HasPrefix(s, "cairn: ") {
		t.Fatalf("stderr is not one 'cairn: ' line:\n%s", r.stderr)
	}
	return s
}

func waitLine(t *testing.T, r *bufio.Reader, timeout time.Duration) string {
	t.Helper()
	ch := make(chan string, 1)
	go func() {
		line, _ := r.ReadString('\n')
		ch <- line
	}()
	select {
	case line := <-ch:
		return line
	case <-time.After(timeout):
		t.Fatalf("no output within %v", timeout)
		return ""
	}
}
