package badgerstore

import (
	"bufio"
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairnlog/cairn/journal"
)

// The crash child: when CAIRN_CRASH_CHILD names a data dir, the test binary
// appends forever from 4 goroutines and prints "seq producer pseq" for every
// entry once Append has returned. It first re-sends the journal's last five
// entries and exits 3 if they are not all reported as the same duplicates.
func TestMain(m *testing.M) {
	if dir := os.Getenv("CAIRN_CRASH_CHILD"); dir != "" {
		os.Exit(crashChild(dir))
	}
	os.Exit(m.Run())
}

func crashChild(dir string) int {
	ctx := context.Background()
	s, err := Open(DefaultConfig(dir))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		return 2
	}
	start := map[string]uint64{}
	if h, err := s.Head(ctx, "crash"); err == nil {
		from := uint64(1)
		if h.Seq > 5 {
			from = h.Seq - 4
		}
		recs, err := s.Read(ctx, "crash", from, 5)
		if err != nil {
			fmt.Fprintln(os.Stderr, "child read:", err)
			return 2
		}
		var resend []journal.Entry
		for _, r := range recs {
			resend = append(resend, journal.Entry{Kind: journal.KindAppEvent, ProducerID: r.ProducerID, ProducerSeq: r.ProducerSeq, Payload: r.Payload})
		}
		res, err := s.Append(ctx, "crash", resend)
		if err != nil {
			fmt.Fprintln(os.Stderr, "child resend:", err)
			return 2
		}
		for i, r := range res {
			if !r.Duplicate || r.Seq != recs[i].Seq {
				fmt.Fprintf(os.Stderr, "child: re-sent seq %d came back as %+v\n", recs[i].Seq, r)
				return 3
			}
		}
		// Each producer resumes after the highest seq it has in the journal.
		all, _ := s.Read(ctx, "crash", 1, int(h.Seq))
		for _, r := range all {
			if r.ProducerSeq > start[r.ProducerID] {
				start[r.ProducerID] = r.ProducerSeq
			}
		}
	}
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			producer := fmt.Sprintf("w%d", w)
			next := start[producer] + 1
			rng := rand.New(rand.NewSource(int64(w)))
			for {
				n := 1 + rng.Intn(40)
				es := make([]journal.Entry, n)
				for i := range es {
					es[i] = journal.Entry{Kind: journal.KindAppEvent, ProducerID: producer, ProducerSeq: next + uint64(i), Payload: []byte(fmt.Sprintf(`{"w":%d,"n":%d}`, w, next+uint64(i)))}
				}
				res, err := s.Append(ctx, "crash", es)
				if err != nil {
					fmt.Fprintln(os.Stderr, "child append:", err)
					os.Exit(2)
				}
				mu.Lock()
				for i, r := range res {
					fmt.Fprintf(out, "%d %s %d\n", r.Seq, producer, next+uint64(i))
				}
				out.Flush()
				mu.Unlock()
				next += uint64(n)
			}
		}(w)
	}
	wg.Wait()
	return 0
}

type acked struct {
	producer string
	pseq     uint64
}

func TestCrashLoopLosesNothing(t *testing.T) {
	dir := t.TempDir()
	kills := 20
	if testing.Short() {
		kills = 5
	}
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	printed := map[uint64]acked{}
	for round := 0; round < kills; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "CAIRN_CRASH_CHILD="+dir)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1<<16)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		time.Sleep(time.Duration(50+rng.Intn(300)) * time.Millisecond)
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		for l := range lines {
			f := strings.Fields(l)
			if len(f) != 3 {
				continue // a line cut by the kill was never complete
			}
			seq, _ := strconv.ParseUint(f[0], 10, 64)
			pseq, _ := strconv.ParseUint(f[2], 10, 64)
			if prev, ok := printed[seq]; ok && prev != (acked{f[1], pseq}) {
				t.Fatalf("seq %d acknowledged for %v and later for %s/%d", seq, prev, f[1], pseq)
			}
			printed[seq] = acked{f[1], pseq}
		}
		err = cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() > 0 {
			t.Fatalf("round %d: child failed (exit %d): %s", round, ee.ExitCode(), stderr.String())
		}
	}
	if len(printed) == 0 {
		t.Fatal("the child never acknowledged an append")
	}
	s, err := Open(DefaultConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	res, err := journal.VerifyStream(ctx, s, "crash", s.VerifierKey(), true, nil)
	if err != nil {
		t.Fatalf("verify after %d kills: %v", kills, err)
	}
	recs, err := s.Read(ctx, "crash", 1, int(res.Entries))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[acked]uint64{}
	for _, r := range recs {
		k := acked{r.ProducerID, r.ProducerSeq}
		if prev, dup := seen[k]; dup {
			t.Fatalf("%s/%d stored twice, at seq %d and %d", k.producer, k.pseq, prev, r.Seq)
		}
		seen[k] = r.Seq
	}
	for seq, a := range printed {
		if seq > res.Entries {
			t.Fatalf("seq %d was acknowledged but the journal ends at %d", seq, res.Entries)
		}
		if r := recs[seq-1]; r.ProducerID != a.producer || r.ProducerSeq != a.pseq {
			t.Fatalf("seq %d acknowledged as %s/%d but holds %s/%d", seq, a.producer, a.pseq, r.ProducerID, r.ProducerSeq)
		}
	}
	t.Logf("%d kills, %d acknowledged appends, %d entries, head %s", kills, len(printed), res.Entries, res.Head)
}

func TestTamperedEntryIsReportedBySeq(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(DefaultConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	var es []journal.Entry
	for i := 1; i <= 100; i++ {
		es = append(es, journal.Entry{Kind: journal.KindAppEvent, Payload: []byte(fmt.Sprintf(`{"i":%d}`, i))})
	}
	if _, err := s.Append(context.Background(), "t", es); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, tc := range []struct {
		name string
		seq  uint64
		off  func(v []byte) int
	}{
		{"payload byte", 42, func(v []byte) int { return len(v) - 6 }},
		{"payload byte of an odd seq", 41, func(v []byte) int { return len(v) - 6 }},
		{"last entry", 100, func(v []byte) int { return len(v) - 6 }},
		{"stored Merkle hash", 42, func(v []byte) int { return recordHeader + 5 }},
		{"prev_hash", 42, func(v []byte) int { return recordHeader + 32*int(v[recordHeader-1]) + 3 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			work := t.TempDir()
			if err := exec.Command("cp", "-a", dir+"/.", work).Run(); err != nil {
				t.Fatal(err)
			}
			flipStoredByte(t, work, 1, tc.seq, tc.off)
			s, err := Open(DefaultConfig(work))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			_, err = journal.VerifyStream(context.Background(), s, "t", s.VerifierKey(), false, nil)
			ve, ok := err.(*journal.VerifyError)
			if !ok || ve.Seq != tc.seq || ve.Stream != "t" {
				t.Fatalf("verify after flipping a byte of seq %d: %v", tc.seq, err)
			}
		})
	}
}
