package api_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnlog/cairn/api"
)

// rbacCase is one endpoint with the least role it needs on stream "orders"
// (tenant acme).
type rbacCase struct {
	name, method, path, body string
	need                     api.Role
}

var rbacCases = []rbacCase{
	{"list streams", "GET", "/v1/streams", "", api.RoleReader},
	{"read entries", "GET", "/v1/streams/orders/entries", "", api.RoleReader},
	{"checkpoint", "GET", "/v1/streams/orders/checkpoint", "", api.RoleReader},
	{"inclusion proof", "GET", "/v1/streams/orders/proofs/inclusion?seq=1", "", api.RoleReader},
	{"consistency proof", "GET", "/v1/streams/orders/proofs/consistency?from_size=1", "", api.RoleReader},
	{"subscribe", "GET", "/v1/streams/orders:subscribe?no_follow=true", "", api.RoleReader},
	{"get subscription", "GET", "/v1/streams/orders/subscriptions/s1", "", api.RoleReader},
	{"group status", "GET", "/v1/streams/orders/groups/g", "", api.RoleReader},
	{"dead letters", "GET", "/v1/streams/orders/groups/g/dead-letters", "", api.RoleReader},
	{"commit checkpoint", "POST", "/v1/streams/orders/subscriptions/s1/checkpoint", `{"seq":"1","hash":"HASH"}`, api.RoleConsumer},
	{"lease", "POST", "/v1/streams/orders/groups/g:lease", `{"max":1}`, api.RoleConsumer},
	{"ack", "POST", "/v1/streams/orders/groups/g:ack", `{"tokens":[{"sequence_id":"1","attempt":1,"lease_id":"00000000-0000-0000-0000-000000000000"}]}`, api.RoleConsumer},
	{"nack", "POST", "/v1/streams/orders/groups/g:nack", `{"tokens":[{"sequence_id":"1","attempt":1,"lease_id":"00000000-0000-0000-0000-000000000000"}]}`, api.RoleConsumer},
	{"extend", "POST", "/v1/streams/orders/groups/g:extend", `{"tokens":[{"sequence_id":"1","attempt":1,"lease_id":"00000000-0000-0000-0000-000000000000"}]}`, api.RoleConsumer},
	{"schema versions", "GET", "/v1/schemas/subjects/orders.public.t/versions", "", api.RoleReader},
	{"confluent versions", "GET", "/registry/subjects/orders.public.t/versions", "", api.RoleReader},
	{"append", "POST", "/v1/streams/orders/entries:append", `{"events":[{"producer_id":"p","producer_seq":"PSEQ"}]}`, api.RoleProducer},
}

// TestRBACMatrix runs every role (and a token of another tenant, an unknown
// token and no token) against every endpoint.
func TestRBACMatrix(t *testing.T) {
	dir := t.TempDir()
	type who struct {
		name   string
		role   api.Role
		tenant string
	}
	people := []who{{"reader", api.RoleReader, "acme"}, {"consumer", api.RoleConsumer, "acme"}, {"producer", api.RoleProducer, "acme"}, {"admin", api.RoleAdmin, "*"}, {"other-tenant", api.RoleAdmin, "globex"}}
	secrets := map[string]string{}
	yaml := "tokens:\n"
	for _, p := range people {
		secret, hash, err := api.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		secrets[p.name] = secret
		yaml += fmt.Sprintf("  - name: %s\n    sha256: %s\n    grants:\n      - {tenant: %q, streams: [\"*\"], role: %s}\n", p.name, hash, p.tenant, p.role)
	}
	file := filepath.Join(dir, "tokens.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	auth, err := api.LoadTokens(file, map[string][]string{"acme": {"orders"}, "globex": {"globex.*"}})
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, filepath.Join(dir, "srv"), auth, "", "")
	appendApp(t, ts.store, "orders", 3, func(i int) string { return fmt.Sprint(i) })
	recs, _ := ts.store.Read(context.Background(), "orders", 1, 1)
	hash := recs[0].Hash.String()

	pseq := 100
	for _, c := range rbacCases {
		for _, p := range people {
			body := c.body
			if body != "" {
				pseq++
				body = strings.ReplaceAll(body, "HASH", hash)
				body = strings.ReplaceAll(body, "PSEQ", fmt.Sprint(pseq))
			}
			r := do(t, c.method, ts.base+c.path, secrets[p.name], body)
			allowed := p.tenant != "globex" && p.role >= c.need
			switch {
			case allowed && (r.status == 401 || r.status == 403):
				t.Errorf("%s as %s: denied (%d) but the role allows it: %s", c.name, p.name, r.status, r.body)
			case !allowed && c.name == "list streams":
				// Listing is open to any valid token but shows only readable streams.
				if r.status != 200 || contains(r.body, `"orders"`) {
					t.Errorf("list streams as %s: %d %s (orders must not be listed)", p.name, r.status, r.body)
				}
			case !allowed:
				expectError(t, c.name+" as "+p.name, r, 403, "PERMISSION_DENIED")
			}
		}
		expectError(t, c.name+" without a token", do(t, c.method, ts.base+c.path, "", fill(c.body, hash)), 401, "UNAUTHENTICATED")
		expectError(t, c.name+" with an unknown token", do(t, c.method, ts.base+c.path, "cairn_not-a-real-token", fill(c.body, hash)), 401, "UNAUTHENTICATED")
	}
}

func TestTokensFileErrors(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"bad hash":    "tokens:\n  - name: a\n    sha256: xyz\n    grants: [{role: reader}]\n",
		"bad role":    "tokens:\n  - name: a\n    sha256: " + api.HashToken("s") + "\n    grants: [{role: boss}]\n",
		"no grants":   "tokens:\n  - name: a\n    sha256: " + api.HashToken("s") + "\n",
		"unknown key": "tokens:\n  - name: a\n    secret: s\n",
		"bad pattern": "tokens:\n  - name: a\n    sha256: " + api.HashToken("s") + "\n    grants: [{role: reader, streams: ['[']}]\n",
		"duplicate":   "tokens:\n  - {name: a, sha256: " + api.HashToken("s") + ", grants: [{role: reader}]}\n  - {name: b, sha256: " + api.HashToken("s") + ", grants: [{role: reader}]}\n",
	}
	for name, body := range cases {
		f := filepath.Join(dir, "t.yaml")
		if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := api.LoadTokens(f, nil); err == nil {
			t.Errorf("%s: tokens file accepted", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	if _, err := api.LoadTokens(filepath.Join(dir, "missing.yaml"), nil); err == nil {
		t.Error("missing tokens file accepted")
	}
}

func contains(b []byte, sub string) bool { return strings.Contains(string(b), sub) }

func fill(body, hash string) string {
	return strings.NewReplacer("HASH", hash, "PSEQ", "1").Replace(body)
}
