package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestTailUnknownStream(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	appendEvents(t, dir, "orders", events(1, 3, simplePayload), 1)
	r := cairn(t, "", nil, "tail", "--data-dir", dir, "--stream", "invoices")
	line := oneErrorLine(t, r)
	if r.code != 1 || !strings.Contains(line, `unknown stream "invoices"`) || !strings.Contains(line, "orders") {
		t.Fatalf("exit %d, stderr %q; want exit 1 naming the unknown stream and listing orders", r.code, line)
	}
	r = cairn(t, "", nil, "proof", "inclusion", "--data-dir", dir, "--stream", "invoices", "--seq", "1")
	if line := oneErrorLine(t, r); !strings.Contains(line, `unknown stream "invoices"`) {
		t.Fatalf("proof inclusion on an unknown stream: %q", line)
	}
}

func TestMissingDataDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "nothing-here")
	for _, args := range [][]string{
		{"tail", "--data-dir", dir, "--stream", "s"},
		{"verify", "--data-dir", dir},
		{"checkpoint", "--data-dir", dir, "--stream", "s"},
	} {
		r := cairn(t, "", nil, args...)
		line := oneErrorLine(t, r)
		if r.code != 1 || !strings.Contains(line, "has no journal") {
			t.Errorf("%s: exit %d, stderr %q; want exit 1 saying the dir has no journal", args[0], r.code, line)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("read commands created the data dir (stat: %v)", err)
	}
}

func TestLockedDataDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	appendEvents(t, dir, "s", events(1, 3, simplePayload), 1)

	follow := exec.Command(cairnBin, "tail", "--data-dir", dir, "--stream", "s", "--follow")
	follow.Env = cleanEnv()
	stdout, err := follow.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	follow.Stderr = &stderr
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			follow.Process.Kill()
			follow.Wait()
		}
	})
	// The first line means the follower has the journal open (and locked).
	out := bufio.NewReader(stdout)
	if line := waitLine(t, out, 20*time.Second); !strings.Contains(line, `"seq":1`) {
		t.Fatalf("follower printed %q first", line)
	}

	r := cairn(t, events(4, 1, simplePayload), nil, "append", "--data-dir", dir, "--stream", "s", "--producer", "test")
	line := oneErrorLine(t, r)
	if r.code != 1 || !strings.Contains(line, "in use") {
		t.Fatalf("append into a followed dir: exit %d, stderr %q; want exit 1 saying the data dir is in use", r.code, line)
	}

	// SIGINT ends --follow cleanly.
	if err := follow.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- follow.Wait() }()
	select {
	case err := <-done:
		stopped = true
		if err != nil {
			t.Fatalf("follower exit after SIGINT: %v (stderr %q)", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("follower did not stop after SIGINT")
	}

	// The dir is free again.
	appendEvents(t, dir, "s", events(4, 1, simplePayload), 4)
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"bogus"},
		{"tail", "--stream", "s"},
		{"tail", "--data-dir", "x"},
		{"tail", "--data-dir", "x", "--stream", "s", "--format", "xml"},
		{"tail", "--data-dir", "x", "--stream", "s", "--from", "0"},
		{"proof", "inclusion", "--data-dir", "x", "--stream", "s"},
		{"proof", "check", "--checkpoint", "c"},
		{"verify", "--data-dir", "x", "--nope"},
	} {
		r := cairn(t, "", nil, args...)
		oneErrorLine(t, r)
		if r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, r.code, r.stderr)
		}
	}
}

// After a writer is killed, read-only commands either work or say how to
// recover; after a read-write open every acknowledged entry is there.
func TestReadAfterCrash(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	app := exec.Command(cairnBin, "append", "--data-dir", dir, "--stream", "s", "--producer", "p")
	app.Env = cleanEnv()
	stdin, err := app.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := app.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		for i := 1; ; i++ {
			if _, err := fmt.Fprintf(stdin, `{"producer_seq": %d, "payload": {"i": %d}}`+"\n", i, i); err != nil {
				return
			}
		}
	}()
	out := bufio.NewReader(stdout)
	var acked string
	for i := 0; i < 5000; i++ {
		acked = waitLine(t, out, 20*time.Second)
	}
	if err := app.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	app.Wait()
	last := parseAppendOutput(t, acked)[0].Seq

	// A crashed writer may leave a torn write-ahead log; verify must recover
	// it and pass, with every acknowledged entry present.
	r := cairn(t, "", nil, "verify", "--data-dir", dir)
	if r.code != 0 {
		t.Fatalf("verify after a crash: exit %d: %s", r.code, r.stderr)
	}
	count, _ := verifyHead(t, dir)
	var n uint64
	fmt.Sscan(count, &n)
	if n < last {
		t.Fatalf("verify found %d entries after the crash, but seq %d was acknowledged", n, last)
	}
}
