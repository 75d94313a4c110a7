package api

import (
	"context"
	"crypto/tls"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/encoding/protojson"

	cairnv1 "github.com/cairnlog/cairn/api/cairnv1"
	"github.com/cairnlog/cairn/api/hugo"
	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/replay"
	"github.com/cairnlog/cairn/replay/history"
	"github.com/cairnlog/cairn/replay/queue"
	"github.com/cairnlog/cairn/schema"
)

//go:embed openapi/cairn.swagger.json
var openAPI []byte

// Config configures the API server.
type Config struct {
	// Listen addresses (host:port; port 0 picks a free one). An empty
	// address turns that listener off.
	GRPCListen, HTTPListen string
	// Auth checks bearer tokens; nil serves everyone (auth.mode: none).
	Auth *Auth
	// TLS certificate and key files; both empty serves plain text.
	TLSCertFile, TLSKeyFile string
	// Hugo configures the Hugo profile rendering.
	Hugo   hugo.Options
	Logger *slog.Logger
}

// Server serves the journal, replay and queue services over gRPC and REST.
type Server struct {
	store       journal.Store
	checkpoints *replay.Checkpoints
	queue       *queue.Manager
	auth        *Auth
	schemas     *replay.SchemaLog
	hugoOpts    hugo.Options
	hist        *history.Set
	log         *slog.Logger

	grpc     *grpc.Server
	health   *health.Server
	http     *http.Server
	grpcLis  net.Listener
	httpLis  net.Listener
	inproc   *bufconn.Listener
	gwConn   *grpc.ClientConn
	stopping chan struct{}
}

// New builds the server and opens its listeners; Serve starts it.
func New(store journal.Store, cps *replay.Checkpoints, q *queue.Manager, cfg Config) (*Server, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{store: store, checkpoints: cps, queue: q, auth: cfg.Auth, schemas: replay.NewSchemaLog(store), hugoOpts: cfg.Hugo, hist: history.NewSet(store), log: log, stopping: make(chan struct{})}

	if s.hugoOpts.SchemaVersion == nil {
		s.hugoOpts.SchemaVersion = s.schemaVersion
	}

	var tlsCfg *tls.Config
	if cfg.TLSCertFile != "" || cfg.TLSKeyFile != "" {
		if cfg.TLSCertFile == "" || cfg.TLSKeyFile == "" {
			return nil, errors.New("TLS needs both a certificate file and a key file (tls.cert_file and tls.key_file)")
		}
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("load TLS certificate %s and key %s: %w", cfg.TLSCertFile, cfg.TLSKeyFile, err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}

	opts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(s.auth.unaryInterceptor),
		grpc.ChainStreamInterceptor(s.auth.streamInterceptor),
		grpc.MaxRecvMsgSize(64 << 20),
		// Subscribe sends batches of a few hundred KB; the default 64 KB
		// windows would stall each one on flow-control round trips.
		grpc.InitialWindowSize(8 << 20),
		grpc.InitialConnWindowSize(16 << 20),
		grpc.WriteBufferSize(256 << 10),
	}
	s.grpc = grpc.NewServer(opts...)
	cairnv1.RegisterJournalServiceServer(s.grpc, &journalService{s: s})
	cairnv1.RegisterReplayServiceServer(s.grpc, &replayService{s: s})
	cairnv1.RegisterQueueServiceServer(s.grpc, &queueService{s: s})
	cairnv1.RegisterSchemaServiceServer(s.grpc, &schemaService{s: s})
	s.health = health.NewServer()
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)

	// The REST gateway reaches the gRPC services through an in-process
	// connection, so REST calls pass the same interceptors (auth, errors).
	s.inproc = bufconn.Listen(1 << 20)
	conn, err := grpc.NewClient("passthrough:///cairn-inproc",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return s.inproc.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		return nil, fmt.Errorf("connect the REST gateway: %w", err)
	}
	s.gwConn = conn

	if cfg.GRPCListen != "" {
		lis, err := net.Listen("tcp", cfg.GRPCListen)
		if err != nil {
			s.closeListeners()
			return nil, fmt.Errorf("listen for gRPC on %s: %w (is another cairnd running? change listen.grpc)", cfg.GRPCListen, err)
		}
		if tlsCfg != nil {
			// TLS on the listener rather than as server credentials, so the
			// in-process gateway connection stays plain.
			g := tlsCfg.Clone()
			g.NextProtos = []string{"h2"}
			lis = tls.NewListener(lis, g)
		}
		s.grpcLis = lis
	}
	if cfg.HTTPListen != "" {
		lis, err := net.Listen("tcp", cfg.HTTPListen)
		if err != nil {
			s.closeListeners()
			return nil, fmt.Errorf("listen for HTTP on %s: %w (is another cairnd running? change listen.http)", cfg.HTTPListen, err)
		}
		if tlsCfg != nil {
			h := tlsCfg.Clone()
			h.NextProtos = []string{"http/1.1"}
			lis = tls.NewListener(lis, h)
		}
		s.httpLis = lis
		h, err := s.restHandler()
		if err != nil {
			s.closeListeners()
			return nil, err
		}
		s.http = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	}
	return s, nil
}

func (s *Server) closeListeners() {
	for _, l := range []net.Listener{s.grpcLis, s.httpLis} {
		if l != nil {
			l.Close()
		}
	}
	if s.gwConn != nil {
		s.gwConn.Close()
	}
}

// GRPCAddr and HTTPAddr are the bound addresses ("" when off).
func (s *Server) GRPCAddr() string {
	if s.grpcLis == nil {
		return ""
	}
	return s.grpcLis.Addr().String()
}

func (s *Server) HTTPAddr() string {
	if s.httpLis == nil {
		return ""
	}
	return s.httpLis.Addr().String()
}

// Serve runs until Stop; it returns the first listener error.
func (s *Server) Serve() error {
	errc := make(chan error, 3)
	go func() { errc <- s.grpc.Serve(s.inproc) }()
	n := 1
	if s.grpcLis != nil {
		n++
		go func() { errc <- s.grpc.Serve(s.grpcLis) }()
	}
	if s.httpLis != nil {
		n++
		go func() {
			err := s.http.Serve(s.httpLis)
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			}
			errc <- err
		}()
	}
	var first error
	for i := 0; i < n; i++ {
		if err := <-errc; err != nil && first == nil && !errors.Is(err, grpc.ErrServerStopped) {
			first = err
			go s.Stop(context.Background())
		}
	}
	return first
}

// Stop ends the server: new calls are refused, unary calls finish, and
// subscriptions are cut when ctx ends (clients resume from their checkpoint).
func (s *Server) Stop(ctx context.Context) {
	select {
	case <-s.stopping:
		return
	default:
		close(s.stopping)
	}
	s.health.Shutdown()
	if s.http != nil {
		_ = s.http.Shutdown(ctx)
	}
	done := make(chan struct{})
	go func() { s.grpc.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.grpc.Stop()
		<-done
	}
	s.gwConn.Close()
}

// restHandler is the grpc-gateway mux plus the handlers it cannot express:
// the OpenAPI document, NDJSON subscriptions and the Hugo profile.
func (s *Server) restHandler() (http.Handler, error) {
	mux := runtime.NewServeMux(
		runtime.WithErrorHandler(restError),
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}),
	)
	ctx := context.Background()
	for _, reg := range []func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error{
		cairnv1.RegisterJournalServiceHandler,
		cairnv1.RegisterReplayServiceHandler,
		cairnv1.RegisterQueueServiceHandler,
		cairnv1.RegisterSchemaServiceHandler,
	} {
		if err := reg(ctx, mux, s.gwConn); err != nil {
			return nil, fmt.Errorf("register REST gateway: %w", err)
		}
	}
	// Registered after the generated handlers, so they take precedence.
	if err := mux.HandlePath(http.MethodGet, "/v1/streams/{stream}:subscribe", s.restSubscribe); err != nil {
		return nil, err
	}
	if err := mux.HandlePath(http.MethodGet, "/v1/streams/{stream}/entries", s.restEntries); err != nil {
		return nil, err
	}
	if err := s.registryRoutes(mux); err != nil {
		return nil, err
	}
	if err := mux.HandlePath(http.MethodGet, "/v1/openapi.json", func(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPI)
	}); err != nil {
		return nil, err
	}
	return mux, nil
}

// schemaVersion is the Hugo profile's schemaVersion of a record: the
// registry version first recorded with the row's schema fingerprint, or 1.
// It depends only on the stream's schema entries before the record, so it
// is stable for every delivered entry.
func (s *Server) schemaVersion(rec *journal.Record) int32 {
	if len(rec.SchemaFingerprint) != len(schema.Fingerprint{}) {
		return hugo.DefaultSchemaVersion
	}
	var fp schema.Fingerprint
	copy(fp[:], rec.SchemaFingerprint)
	v, err := s.hist.Stream(rec.Stream).Registry().ByFingerprint(fp)
	if err != nil || v.Version < 1 {
		return hugo.DefaultSchemaVersion
	}
	return int32(v.Version)
}
