package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnlog/cairn/api"
	"github.com/cairnlog/cairn/journal/badgerstore"
	"github.com/cairnlog/cairn/replay"
	"github.com/cairnlog/cairn/replay/queue"
	"github.com/cairnlog/cairn/replay/state"
)

// TestTailServer checks that `cairn tail --server` prints exactly what a
// local tail prints, through the API with a token.
func TestTailServer(t *testing.T) {
	dir := t.TempDir()
	appendEvents(t, dir, "orders", events(1, 40, simplePayload), 1)
	local := cairn(t, "", nil, "tail", "--data-dir", dir, "--stream", "orders", "--from", "3", "--limit", "30")

	r := cairn(t, "", nil, "token", "new", "--name", "tail-test")
	lines := strings.SplitN(r.stdout, "\n", 2)
	if r.code != 0 || len(lines) != 2 {
		t.Fatalf("token new: %d %q %q", r.code, r.stdout, r.stderr)
	}
	secret := lines[0]
	tokFile := filepath.Join(t.TempDir(), "tokens.yaml")
	if err := os.WriteFile(tokFile, []byte("tokens:\n"+lines[1]), 0o600); err != nil {
		t.Fatal(err)
	}
	auth, err := api.LoadTokens(tokFile, nil)
	if err != nil {
		t.Fatalf("the entry `cairn token new` printed does not load: %v", err)
	}
	store, err := badgerstore.Open(badgerstore.DefaultConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	st, err := state.Open(filepath.Join(t.TempDir(), "state"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	q := queue.NewManager(store, st, queue.Options{})
	defer q.Close()
	srv, err := api.New(store, replay.NewCheckpoints(store, st), q, api.Config{GRPCListen: "127.0.0.1:0", Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Stop(ctx)
	}()

	remote := cairn(t, "", []string{"CAIRN_TOKEN=" + secret}, "tail", "--server", srv.GRPCAddr(), "--stream", "orders", "--from", "3", "--limit", "30")
	if local.code != 0 || remote.code != 0 || remote.stdout != local.stdout || local.stdout == "" {
		t.Fatalf("tail --server (exit %d, %s) differs from a local tail (exit %d, %s):\nremote:\n%s\nlocal:\n%s", remote.code, remote.stderr, local.code, local.stderr, remote.stdout, local.stdout)
	}
	// verify --server recomputes everything client side against a trusted key.
	v := cairn(t, "", []string{"CAIRN_TOKEN=" + secret}, "verify", "--server", srv.GRPCAddr(), "--public-key", filepath.Join(dir, "signing.pub"))
	if v.code != 0 || !strings.Contains(v.stdout, "verified 40 entries") {
		t.Fatalf("verify --server: exit %d\n%s\n%s", v.code, v.stdout, v.stderr)
	}
	// A key the journal was not signed with fails the checkpoint.
	other := filepath.Join(t.TempDir(), "other.pub")
	if err := os.WriteFile(other, []byte("cairn/other+12345678+AXmOZ9RXqUq+TRjJc0kzPzDnZm/pkDM0j3o8xr8zLtKN\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if v := cairn(t, "", []string{"CAIRN_TOKEN=" + secret}, "verify", "--server", srv.GRPCAddr(), "--public-key", other); v.code == 0 {
		t.Fatalf("verify --server with a foreign key passed:\n%s", v.stdout)
	}
	if v := cairn(t, "", []string{"CAIRN_TOKEN=" + secret}, "verify", "--server", srv.GRPCAddr()); v.code == 0 || !strings.Contains(v.stderr, "--public-key") {
		t.Fatalf("verify --server without a key: exit %d %s", v.code, v.stderr)
	}
	bad := cairn(t, "", []string{"CAIRN_TOKEN=wrong"}, "tail", "--server", srv.GRPCAddr(), "--stream", "orders")
	if bad.code == 0 || !strings.Contains(bad.stderr, "unknown bearer token") {
		t.Fatalf("wrong token: exit %d, stderr %q", bad.code, bad.stderr)
	}
}
