package api_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	cairnv1 "github.com/cairnlog/cairn/api/cairnv1"
	"github.com/cairnlog/cairn/api/client"
)

// TestSubscribeSurvivesRestart stops the server (and its journal) while a
// subscriber is mid-stream, restarts it on the same address with more
// entries, and checks the subscriber got every seq exactly once, in order.
func TestSubscribeSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ts1 := startServer(t, dir, nil, "", "")
	addr := ts1.grpcAddr
	appendAppAs(t, ts1.store, "s", "before", 2500, func(i int) string { return fmt.Sprint(i) })

	c, err := client.Dial(addr, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const total = 3500
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	firstBatch, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var got []uint64
	reconnects := 0
	sub := &client.Subscriber{
		Client:      c,
		Request:     &cairnv1.SubscribeRequest{Stream: "s", Subscription: "restart-test"},
		MaxBackoff:  200 * time.Millisecond,
		OnReconnect: func(error, int) { mu.Lock(); reconnects++; mu.Unlock() },
	}
	done := make(chan error, 1)
	go func() {
		done <- sub.Run(ctx, func(_ context.Context, es []*cairnv1.Entry) error {
			mu.Lock()
			first := len(got) == 0
			for _, e := range es {
				got = append(got, e.Seq)
			}
			n := len(got)
			mu.Unlock()
			if first {
				close(firstBatch)
				<-release // hold the stream open while the server goes away
			}
			if n >= total {
				cancel()
			}
			return nil
		})
	}()
	<-firstBatch
	ts1.stop()
	ts2 := startServer(t, dir, nil, addr, "")
	appendAppAs(t, ts2.store, "s", "after", total-2500, func(i int) string { return fmt.Sprint(i) })
	close(release)
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("subscriber ended with %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != total {
		t.Fatalf("got %d entries, want %d", len(got), total)
	}
	for i, s := range got {
		if s != uint64(i+1) {
			t.Fatalf("delivery %d is seq %d: gap or duplicate", i, s)
		}
	}
	if reconnects == 0 {
		t.Fatal("the subscriber never reconnected, so the restart was not exercised")
	}
	// The committed checkpoint is the last delivered entry.
	cp, err := c.Replay.GetSubscription(context.Background(), &cairnv1.GetSubscriptionRequest{Stream: "s", Name: "restart-test"})
	if err != nil || cp.Subscription.Seq == 0 {
		t.Fatalf("checkpoint after the run: %v %v", cp, err)
	}
}
