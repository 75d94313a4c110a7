package pulsarstore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairnlog/cairn/fixtures"
	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/journal/journaltest"
)

// TestMain doubles as the writer process of TestTakeoverWhenWriterDies.
func TestMain(m *testing.M) {
	if os.Getenv("PULSARSTORE_CHILD") != "" {
		os.Exit(childWriter())
	}
	os.Exit(m.Run())
}

// childWriter takes the stream and appends app events of producer "child"
// until it is killed, printing "ACK producer_seq seq" for every durable one.
func childWriter() int {
	cfg := DefaultConfig(os.Getenv("PS_SERVICE"), os.Getenv("PS_ADMIN"), os.Getenv("PS_DIR"))
	cfg.Namespace, cfg.SigningKeyFile = os.Getenv("PS_NS"), os.Getenv("PS_KEY")
	stream := os.Getenv("PS_STREAM")
	ctx := context.Background()
	s, err := Open(ctx, cfg)
	if err != nil {
		fmt.Println("ERR", err)
		return 1
	}
	h, err := s.AcquireStream(ctx, stream)
	if err != nil {
		fmt.Println("ERR", err)
		return 1
	}
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(out, "HEAD", h.Seq)
	out.Flush()
	for n := uint64(1); ; n += 4 {
		es := []journal.Entry{app("child", n), app("child", n+1), app("child", n+2), app("child", n+3)}
		res, err := s.Append(ctx, stream, es)
		if err != nil {
			fmt.Fprintln(out, "ERR", err)
			out.Flush()
			return 1
		}
		for i, r := range res {
			fmt.Fprintln(out, "ACK", n+uint64(i), r.Seq)
		}
		out.Flush()
	}
}

// TestTakeoverOnClose: a second node waits for the stream while the first
// writes it, and continues the chain once the first closes.
func TestTakeoverOnClose(t *testing.T) {
	t.Parallel()
	p := fixtures.SharedPulsar(t)
	key := testKeyFile(t)
	a := openStore(t, testConfig(t, p, filepath.Join(t.TempDir(), "a"), key))
	for i := uint64(1); i <= 30; i++ {
		mustAppend(t, a, "cdc", change(i))
	}
	b := openStore(t, testConfig(t, p, filepath.Join(t.TempDir(), "b"), key))

	// A standby's append waits for leadership, bounded by its context.
	short, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	_, err := b.Append(short, "cdc", []journal.Entry{change(31)})
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("standby append while another node writes: %v, want deadline exceeded", err)
	}
	got := make(chan error, 1)
	go func() {
		_, err := b.AcquireStream(testCtx(t), "cdc")
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("AcquireStream returned while another node writes the stream: %v", err)
	case <-time.After(1500 * time.Millisecond):
	}
	if b.Writing("cdc") {
		t.Fatal("standby claims to write the stream")
	}
	mustAppend(t, a, "cdc", change(31))
	head, _ := a.Head(testCtx(t), "cdc")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("takeover: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the standby did not take over after the writer closed")
	}
	if h, _ := b.Head(testCtx(t), "cdc"); h != head {
		t.Fatalf("standby head after takeover %+v, want %+v", h, head)
	}
	if c, err := b.LatestCheckpoint(testCtx(t), "cdc"); err != nil || c.Size != head.Seq {
		t.Fatalf("the writer's final checkpoint: %+v, %v", c.Checkpoint, err)
	}
	res := mustAppend(t, b, "cdc", change(31), change(32))
	if res[0] != (journal.AppendResult{Seq: 31, Duplicate: true}) || res[1] != (journal.AppendResult{Seq: head.Seq + 1}) {
		t.Fatalf("append after takeover: %+v", res)
	}
	recs := journaltest.ReadAll(t, b, "cdc")
	checkChain(t, recs)
	if recs[head.Seq].PrevHash != head.Hash {
		t.Fatalf("seq %d does not link to the previous writer's head", head.Seq+1)
	}
}

// TestTakeoverWhenWriterDies: the writer is another process, killed with
// SIGKILL while it appends. The standby, already waiting, takes over:
// every entry the dead writer was told is durable is there, nothing is
// there twice, and the chain continues.
func TestTakeoverWhenWriterDies(t *testing.T) {
	t.Parallel()
	p := fixtures.SharedPulsar(t)
	key := testKeyFile(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PULSARSTORE_CHILD=1", "PS_SERVICE="+p.ServiceURL(), "PS_ADMIN="+p.AdminURL(),
		"PS_NS="+p.Namespace(), "PS_DIR="+filepath.Join(t.TempDir(), "child"), "PS_KEY="+key, "PS_STREAM=cdc")
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var mu sync.Mutex
	acked := map[uint64]uint64{} // producer_seq -> seq
	lines := make(chan string, 1)
	eof := make(chan struct{})
	go func() {
		defer close(eof)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 3 && f[0] == "ACK" {
				n, _ := strconv.ParseUint(f[1], 10, 64)
				q, _ := strconv.ParseUint(f[2], 10, 64)
				mu.Lock()
				acked[n] = q
				mu.Unlock()
				continue
			}
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	select {
	case l := <-lines:
		if !strings.HasPrefix(l, "HEAD") {
			t.Fatalf("child: %s", l)
		}
	case <-time.After(time.Minute):
		t.Fatal("the child did not take the stream")
	}
	standby := openStore(t, testConfig(t, p, filepath.Join(t.TempDir(), "standby"), key))
	got := make(chan error, 1)
	go func() {
		_, err := standby.AcquireStream(testCtx(t), "cdc")
		got <- err
	}()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 400 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the child acknowledged only %d entries", n)
		}
	}
	select {
	case err := <-got:
		t.Fatalf("the standby took the stream from a live writer: %v", err)
	default:
	}
	killed := time.Now()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-eof
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("takeover: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the standby did not take over from the killed writer")
	}
	t.Logf("takeover %v after SIGKILL, %d entries acknowledged to the dead writer", time.Since(killed).Round(time.Millisecond), len(acked))
	head, err := standby.Head(testCtx(t), "cdc")
	if err != nil {
		t.Fatal(err)
	}
	recs := journaltest.ReadAll(t, standby, "cdc")
	checkChain(t, recs)
	if uint64(len(recs)) != head.Seq {
		t.Fatalf("read %d entries, head %d", len(recs), head.Seq)
	}
	seen := map[uint64]uint64{}
	var maxN uint64
	for _, r := range recs {
		if _, dup := seen[r.ProducerSeq]; dup {
			t.Fatalf("producer seq %d is in the journal twice", r.ProducerSeq)
		}
		seen[r.ProducerSeq] = r.Seq
		maxN = max(maxN, r.ProducerSeq)
	}
	for n, q := range acked {
		if seen[n] != q {
			t.Fatalf("entry (child, %d) was acknowledged at seq %d, the journal has it at %d", n, q, seen[n])
		}
	}
	// The capture resumes: retries of what the dead writer may have sent
	// are duplicates with their original seqs, new entries continue the chain.
	var es []journal.Entry
	for n := maxN - 5; n <= maxN+5; n++ {
		es = append(es, app("child", n))
	}
	res := mustAppend(t, standby, "cdc", es...)
	for i, r := range res {
		n := maxN - 5 + uint64(i)
		switch {
		case n <= maxN && (r != journal.AppendResult{Seq: seen[n], Duplicate: true}):
			t.Fatalf("retry of (child, %d): %+v, want duplicate of seq %d", n, r, seen[n])
		case n > maxN && r.Seq != head.Seq+n-maxN:
			t.Fatalf("new (child, %d): %+v, want seq %d", n, r, head.Seq+n-maxN)
		}
	}
	recs = journaltest.ReadAll(t, standby, "cdc")
	checkChain(t, recs)
	if recs[head.Seq].PrevHash != head.Hash {
		t.Fatal("the first entry after the takeover does not link to the dead writer's last entry")
	}
}
