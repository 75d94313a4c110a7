package main

import (
	"fmt"
	"io"
	"os"
)

// scratchDir returns dir, or a fresh temp dir (and its removal) when dir is empty.
func scratchDir(dir, prefix string) (string, func(), error) {
	if dir != "" {
		return dir, func() {}, nil
	}
	d, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", nil, err
	}
	return d, func() { os.RemoveAll(d) }, nil
}

// inChunks calls exec(lo, hi) over 1..rows in chunks of chunk rows, checks
// each affected exactly hi-lo+1 rows, and returns how many chunks it ran
// (each is one transaction in the catch-up workloads).
func inChunks(rows, chunk int, exec func(lo, hi int) (int64, error)) (int, error) {
	n := 0
	for lo := 1; lo <= rows; lo += chunk {
		hi := min(lo+chunk-1, rows)
		got, err := exec(lo, hi)
		if err != nil {
			return n, err
		}
		if got != int64(hi-lo+1) {
			return n, fmt.Errorf("rows %d..%d: %d rows affected", lo, hi, got)
		}
		n++
	}
	return n, nil
}

// interleave runs the reference and Cairn in the order that alternates by
// round, so neither always gets the cooler disk or the warmer cache.
func interleave(round int, ref, cairn func() error) error {
	first, second := ref, cairn
	if round%2 == 1 {
		first, second = cairn, ref
	}
	if err := first(); err != nil {
		return err
	}
	return second()
}

// catchupReport prints one line per round and the medians of a catch-up
// comparison between a reference tool and Cairn.
type catchupReport struct {
	out          io.Writer
	refName      string // e.g. "pg_recvlogical"
	refs, cairns []float64
	alone        []float64 // the durable journal alone, same entries (when measured)
}

func (c *catchupReport) round(r int, ref, cairn drainResult) {
	c.refs, c.cairns = append(c.refs, ref.rate()), append(c.cairns, cairn.rate())
	if cairn.journalAlone > 0 {
		c.alone = append(c.alone, perSecond(cairn.changes, cairn.journalAlone))
	}
	order := "reference first:"
	if r%2 == 1 {
		order = "cairn first:"
	}
	fmt.Fprintf(c.out, "  round %d, %-16s %s %6.2f s %8.0f changes/s, cairn %6.2f s %8.0f changes/s, ratio %.2f\n",
		r+1, order, c.refName, ref.elapsed.Seconds(), ref.rate(), cairn.elapsed.Seconds(), cairn.rate(), cairn.rate()/ref.rate())
}

// summary prints the medians and their ratio against goal (0: none).
func (c *catchupReport) summary(refLabel string, changes int, goal float64) {
	ref, cairn := median(c.refs), median(c.cairns)
	fmt.Fprintf(c.out, "  %-50s%8.0f changes/s   %6.2f s\n", refLabel+" (median):", ref, float64(changes)/ref)
	goalText := "" // no goal set
	if goal > 0 {
		goalText = fmt.Sprintf(" (goal >= %.1f)", goal)
	}
	fmt.Fprintf(c.out, "  %-50s%8.0f changes/s   %6.2f s   ratio %.2f%s\n",
		"cairn capture into the durable journal (median):", cairn, float64(changes)/cairn, cairn/ref, goalText)
}

// ceiling prints the journal-alone median: the rate at which the durable
// journal takes the same entries with no source, and how much of it
// capture reaches and the reference needs.
func (c *catchupReport) ceiling(changes int) {
	if len(c.alone) == 0 {
		return
	}
	alone, ref, cairn := median(c.alone), median(c.refs), median(c.cairns)
	fmt.Fprintf(c.out, "  %-50s%8.0f changes/s   %6.2f s   capture reaches %.2f of it; it is %.2f of the reference\n",
		"the same entries appended with no source (median):", alone, float64(changes)/alone, cairn/alone, alone/ref)
}
