package api_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectpb "google.golang.org/grpc/reflection/grpc_reflection_v1"

	"github.com/cairnlog/cairn/api"
	cairnv1 "github.com/cairnlog/cairn/api/cairnv1"
	"github.com/cairnlog/cairn/api/client"
	"github.com/cairnlog/cairn/journal/badgerstore"
	"github.com/cairnlog/cairn/replay"
	"github.com/cairnlog/cairn/replay/queue"
	"github.com/cairnlog/cairn/replay/state"
)

// selfSigned writes a certificate for 127.0.0.1 and its key; the
// certificate is its own CA.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cairn test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestTLSReflectionHealth(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	store, err := badgerstore.Open(badgerstore.DefaultConfig(filepath.Join(dir, "journal")))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	st, err := state.Open(filepath.Join(dir, "state"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	q := queue.NewManager(store, st, queue.Options{})
	defer q.Close()
	appendApp(t, store, "s", 3, func(i int) string { return "k" })
	srv, err := api.New(store, replay.NewCheckpoints(store, st), q, api.Config{GRPCListen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0", TLSCertFile: cert, TLSKeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Stop(ctx)
	}()
	ctx := context.Background()

	// gRPC over TLS with the CA file.
	c, err := client.Dial(srv.GRPCAddr(), client.Options{TLS: true, CAFile: cert})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if resp, err := c.Journal.ListStreams(ctx, &cairnv1.ListStreamsRequest{}); err != nil || len(resp.Streams) != 1 {
		t.Fatalf("ListStreams over TLS: %v %v", resp, err)
	}
	// A plain-text client does not get through.
	plain, _ := client.Dial(srv.GRPCAddr(), client.Options{})
	defer plain.Close()
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := plain.Journal.ListStreams(pctx, &cairnv1.ListStreamsRequest{}); err == nil {
		t.Fatal("a plain-text client reached the TLS server")
	}

	// REST over HTTPS.
	pool := x509.NewCertPool()
	pemBytes, _ := os.ReadFile(cert)
	pool.AppendCertsFromPEM(pemBytes)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := hc.Get("https://" + srv.HTTPAddr() + "/v1/streams")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("REST over TLS: %v %v", resp, err)
	}
	resp.Body.Close()

	// Reflection and health, on the same TLS port.
	tc, err := client.Dial(srv.GRPCAddr(), client.Options{TLS: true, CAFile: cert})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	h, err := healthpb.NewHealthClient(tc.Conn()).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || h.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v %v", h, err)
	}
	rs, err := reflectpb.NewServerReflectionClient(tc.Conn()).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.Send(&reflectpb.ServerReflectionRequest{MessageRequest: &reflectpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	rr, err := rs.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range rr.GetListServicesResponse().GetService() {
		names = append(names, s.Name)
	}
	for _, want := range []string{"cairn.v1.JournalService", "cairn.v1.ReplayService", "cairn.v1.QueueService"} {
		if !slices.Contains(names, want) {
			t.Fatalf("reflection lists %v, missing %s", names, want)
		}
	}
}
