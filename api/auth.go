package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"gopkg.in/yaml.v3"
)

// Role is what a token may do with a stream. Each role includes the ones
// before it: reader < consumer < producer < admin.
type Role int

// Roles.
const (
	RoleNone     Role = iota
	RoleReader        // read entries, subscribe, proofs, checkpoints, group status
	RoleConsumer      // + leases, acks, subscription checkpoints
	RoleProducer      // + append
	RoleAdmin         // everything
)

var roleNames = map[string]Role{"reader": RoleReader, "consumer": RoleConsumer, "producer": RoleProducer, "admin": RoleAdmin}

func (r Role) String() string {
	for n, v := range roleNames {
		if v == r {
			return n
		}
	}
	return "none"
}

// Grant gives a role on the streams of a tenant that match one of the
// patterns (path.Match syntax; "*" is every stream). Tenant "*" is every
// tenant.
type Grant struct {
	Tenant  string   `yaml:"tenant"`
	Streams []string `yaml:"streams"`
	Role    string   `yaml:"role"`
	role    Role
}

// Token is one entry of the tokens file. Only the SHA-256 of the secret is
// stored; `cairn token new` makes a secret and its entry.
type Token struct {
	Name   string  `yaml:"name"`
	SHA256 string  `yaml:"sha256"`
	Grants []Grant `yaml:"grants"`
}

type tokensFile struct {
	Tokens []Token `yaml:"tokens"`
}

// Auth decides who may call what. A nil *Auth allows everything (auth.mode:
// none).
type Auth struct {
	byHash  map[[32]byte]*Token
	tenants map[string][]string // tenant -> stream patterns
	names   []string            // tenant names, sorted, for a deterministic lookup
}

// LoadTokens reads a tokens file (YAML, see docs/api.md). tenants maps each
// tenant to the stream-name patterns it owns; a stream no tenant claims
// belongs to tenant "default".
func LoadTokens(file string, tenants map[string][]string) (*Auth, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read tokens file: %w (set auth.tokens_file to a readable file, or auth.mode: none for an open server)", err)
	}
	var tf tokensFile
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&tf); err != nil {
		return nil, fmt.Errorf("tokens file %s: %w", file, err)
	}
	return newAuth(file, tf.Tokens, tenants)
}

func newAuth(file string, tokens []Token, tenants map[string][]string) (*Auth, error) {
	a := &Auth{byHash: map[[32]byte]*Token{}, tenants: tenants}
	for i := range tokens {
		t := &tokens[i]
		where := fmt.Sprintf("tokens file %s, token %d (%q)", file, i+1, t.Name)
		h, err := hex.DecodeString(t.SHA256)
		if err != nil || len(h) != 32 {
			return nil, fmt.Errorf("%s: sha256 must be the 64 hex digits of the token's SHA-256 (make one with `cairn token new`)", where)
		}
		var key [32]byte
		copy(key[:], h)
		if _, dup := a.byHash[key]; dup {
			return nil, fmt.Errorf("%s: the same token hash appears twice", where)
		}
		if len(t.Grants) == 0 {
			return nil, fmt.Errorf("%s: no grants; give it at least one {tenant, streams, role}", where)
		}
		for j := range t.Grants {
			g := &t.Grants[j]
			r, ok := roleNames[g.Role]
			if !ok {
				return nil, fmt.Errorf("%s, grant %d: role %q is not one of reader, consumer, producer, admin", where, j+1, g.Role)
			}
			g.role = r
			if g.Tenant == "" {
				g.Tenant = "default"
			}
			if len(g.Streams) == 0 {
				g.Streams = []string{"*"}
			}
			for _, p := range g.Streams {
				if _, err := path.Match(p, "x"); err != nil {
					return nil, fmt.Errorf("%s, grant %d: bad stream pattern %q: %v", where, j+1, p, err)
				}
			}
		}
		a.byHash[key] = t
	}
	for n, ps := range tenants {
		for _, p := range ps {
			if _, err := path.Match(p, "x"); err != nil {
				return nil, fmt.Errorf("tenant %q: bad stream pattern %q: %v", n, p, err)
			}
		}
		a.names = append(a.names, n)
	}
	sort.Strings(a.names)
	return a, nil
}

// NewToken makes a random bearer token and the tokens-file hash for it.
func NewToken() (secret, sha256Hex string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	secret = "cairn_" + base64.RawURLEncoding.EncodeToString(b)
	return secret, HashToken(secret), nil
}

// HashToken is the hex SHA-256 stored in the tokens file for a secret.
func HashToken(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// TenantOf says which tenant owns a stream.
func (a *Auth) TenantOf(stream string) string {
	for _, n := range a.names {
		for _, p := range a.tenants[n] {
			if ok, _ := path.Match(p, stream); ok {
				return n
			}
		}
	}
	return "default"
}

// roleOn is the strongest role the token has on stream.
func (a *Auth) roleOn(t *Token, stream string) Role {
	tenant := a.TenantOf(stream)
	best := RoleNone
	for _, g := range t.Grants {
		if g.Tenant != "*" && g.Tenant != tenant {
			continue
		}
		for _, p := range g.Streams {
			if ok, _ := path.Match(p, stream); ok && g.role > best {
				best = g.role
			}
		}
	}
	return best
}

type tokenKey struct{}

// authenticate finds the caller's token from the bearer credentials.
func (a *Auth) authenticate(ctx context.Context) (*Token, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get("authorization")
	if len(vals) == 0 {
		return nil, errorf(CodeUnauthenticated, "no bearer token: send the header 'Authorization: Bearer <token>' (tokens are listed in the server's auth.tokens_file)")
	}
	secret, ok := strings.CutPrefix(vals[0], "Bearer ")
	if !ok || secret == "" {
		return nil, errorf(CodeUnauthenticated, "malformed authorization header: use 'Authorization: Bearer <token>'")
	}
	h := sha256.Sum256([]byte(strings.TrimSpace(secret)))
	t, ok := a.byHash[h]
	if !ok {
		return nil, errorf(CodeUnauthenticated, "unknown bearer token: check it was copied whole and is in the server's tokens file")
	}
	return t, nil
}

// methodRoles is the role each RPC needs on the request's stream.
var methodRoles = map[string]Role{
	"/cairn.v1.JournalService/ListStreams":           RoleReader,
	"/cairn.v1.JournalService/ReadEntries":           RoleReader,
	"/cairn.v1.JournalService/AppendEntries":         RoleProducer,
	"/cairn.v1.JournalService/GetCheckpoint":         RoleReader,
	"/cairn.v1.JournalService/GetInclusionProof":     RoleReader,
	"/cairn.v1.JournalService/GetConsistencyProof":   RoleReader,
	"/cairn.v1.ReplayService/Subscribe":              RoleReader,
	"/cairn.v1.ReplayService/CommitCheckpoint":       RoleConsumer,
	"/cairn.v1.ReplayService/GetSubscription":        RoleReader,
	"/cairn.v1.QueueService/Lease":                   RoleConsumer,
	"/cairn.v1.QueueService/Ack":                     RoleConsumer,
	"/cairn.v1.QueueService/Nack":                    RoleConsumer,
	"/cairn.v1.QueueService/Extend":                  RoleConsumer,
	"/cairn.v1.QueueService/GetGroup":                RoleReader,
	"/cairn.v1.QueueService/ListDeadLetters":         RoleReader,
	"/cairn.v1.SchemaService/ListSubjects":           RoleReader,
	"/cairn.v1.SchemaService/ListVersions":           RoleReader,
	"/cairn.v1.SchemaService/GetVersion":             RoleReader,
	"/cairn.v1.SchemaService/GetSchemaByFingerprint": RoleReader,
	"/cairn.v1.SchemaService/GetSchemaByID":          RoleReader,
	"/cairn.v1.SchemaService/CheckCompatibility":     RoleReader,
}

// subjected requests name a schema subject; its stream is the source name.
type subjected interface{ GetSubject() string }

// publicPrefixes are services anyone may call (schema discovery and health).
var publicPrefixes = []string{"/grpc.reflection.", "/grpc.health."}

type streamed interface{ GetStream() string }

// authorize checks a call. For ListStreams (no stream in the request) it
// only authenticates; the service filters the list by what the token may read.
func (a *Auth) authorize(ctx context.Context, method string, req any) (context.Context, error) {
	for _, p := range publicPrefixes {
		if strings.HasPrefix(method, p) {
			return ctx, nil
		}
	}
	need, known := methodRoles[method]
	if !known {
		return nil, errorf(CodePermissionDenied, "method %s is not open to tokens", method)
	}
	t, err := a.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	ctx = context.WithValue(ctx, tokenKey{}, t)
	var stream string
	switch r := req.(type) {
	case subjected:
		stream = streamOfSubject(r.GetSubject())
	case streamed:
		stream = r.GetStream()
	}
	if stream == "" || method == "/cairn.v1.JournalService/ListStreams" {
		// No stream in the request: the service filters what it returns.
		return ctx, nil
	}
	if have := a.roleOn(t, stream); have < need {
		return nil, errorf(CodePermissionDenied, "token %q has role %s on stream %q (tenant %s); %s needs %s: add a grant to the tokens file",
			t.Name, have, stream, a.TenantOf(stream), method[strings.LastIndex(method, "/")+1:], need)
	}
	return ctx, nil
}

// canRead reports whether the caller may read stream (nil Auth: yes).
func (a *Auth) canRead(ctx context.Context, stream string) bool {
	if a == nil {
		return true
	}
	t, _ := ctx.Value(tokenKey{}).(*Token)
	return t != nil && a.roleOn(t, stream) >= RoleReader
}

func (a *Auth) unaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if a != nil {
		var err error
		if ctx, err = a.authorize(ctx, info.FullMethod, req); err != nil {
			return nil, toStatus(err)
		}
	}
	resp, err := h(ctx, req)
	return resp, toStatus(err)
}

// authStream authorizes a server stream when its single request arrives.
type authStream struct {
	grpc.ServerStream
	a      *Auth
	method string
	ctx    context.Context
	done   bool
}

func (s *authStream) Context() context.Context { return s.ctx }

func (s *authStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if s.a != nil && !s.done {
		s.done = true
		ctx, err := s.a.authorize(s.ctx, s.method, m)
		if err != nil {
			return toStatus(err)
		}
		s.ctx = ctx
	}
	return nil
}

func (a *Auth) streamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	err := h(srv, &authStream{ServerStream: ss, a: a, method: info.FullMethod, ctx: ss.Context()})
	return toStatus(err)
}
