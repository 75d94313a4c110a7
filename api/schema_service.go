package api

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	cairnv1 "github.com/cairnlog/cairn/api/cairnv1"
	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/replay"
	"github.com/cairnlog/cairn/schema"
)

// schemaView is the schema registry as the journal records it: every
// stream's `schema` entries applied in seq order. It catches up lazily
// before each read (one Head call per stream when nothing is new), so new
// versions appear as soon as capture appends them. The first read scans each
// stream once for its schema entries.
type schemaView struct {
	store journal.Store
	mu    sync.Mutex
	reg   *schema.Registry
	next  map[string]uint64 // per stream: the next seq not yet scanned
	where map[schema.Fingerprint]recorded
}

// recorded is where a schema was first recorded in the journal.
type recorded struct {
	stream string
	seq    uint64
	at     time.Time
}

func newSchemaView(store journal.Store) *schemaView {
	reg, _ := schema.NewRegistry(schema.DefaultConfig())
	return &schemaView{store: store, reg: reg, next: map[string]uint64{}, where: map[schema.Fingerprint]recorded{}}
}

// refresh applies the schema entries appended since the last call.
func (v *schemaView) refresh(ctx context.Context) (*schema.Registry, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	heads, err := v.store.Streams(ctx)
	if err != nil {
		return nil, err
	}
	for _, h := range heads {
		from := max(v.next[h.Stream], 1)
		if h.Seq < from {
			continue
		}
		cur, err := replay.NewCursor(v.store, h.Stream, replay.CursorOptions{From: from, Filter: replay.Filter{Kinds: []journal.Kind{journal.KindSchema}}, PageSize: replay.MaxPageSize})
		if err != nil {
			return nil, err
		}
		for {
			recs, err := cur.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, err
			}
			for i := range recs {
				reg, err := schema.UnmarshalRegistration(recs[i].Payload)
				if err != nil {
					return nil, errorf(CodeVerifyFailed, "stream %s seq %d: a schema entry does not decode: %v", h.Stream, recs[i].Seq, err)
				}
				ver, _, err := v.reg.Apply(reg)
				if err != nil {
					return nil, errorf(CodeVerifyFailed, "stream %s seq %d: %v", h.Stream, recs[i].Seq, err)
				}
				if _, ok := v.where[ver.Fingerprint]; !ok {
					v.where[ver.Fingerprint] = recorded{stream: h.Stream, seq: recs[i].Seq, at: recs[i].RecordedAt}
				}
			}
		}
		v.next[h.Stream] = cur.Position() + 1
	}
	return v.reg, nil
}

func (v *schemaView) toProto(ver schema.Version) *cairnv1.SchemaVersion {
	out := &cairnv1.SchemaVersion{
		Subject: ver.Subject, Version: int32(ver.Version), Id: int32(ver.ID),
		Fingerprint: ver.Fingerprint.String(), Schema: string(ver.JSON),
		Mode: string(ver.Mode), Compatible: ver.Compatible, Reason: ver.Reason,
	}
	v.mu.Lock()
	w, ok := v.where[ver.Fingerprint]
	v.mu.Unlock()
	if ok {
		out.Stream, out.Seq = w.stream, w.seq
		if !w.at.IsZero() {
			out.RecordedAt = timestamppb.New(w.at)
		}
	}
	return out
}

// streamOfSubject is the stream a subject's versions are recorded in: the
// subject's first dot-separated part, the source name.
func streamOfSubject(subject string) string {
	s, _, _ := strings.Cut(subject, ".")
	return s
}

type schemaService struct {
	cairnv1.UnimplementedSchemaServiceServer
	s *Server
}

// parseVersion reads "latest" or a version number.
func parseVersion(v string) (int, error) {
	if v == "" || v == "latest" {
		return -1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, invalid("version %q is not a version number (1, 2, ...) or \"latest\"", v)
	}
	return n, nil
}

func (x *schemaService) ListSubjects(ctx context.Context, _ *cairnv1.ListSubjectsRequest) (*cairnv1.ListSubjectsResponse, error) {
	reg, err := x.s.schemas.refresh(ctx)
	if err != nil {
		return nil, err
	}
	out := &cairnv1.ListSubjectsResponse{}
	for _, subj := range reg.Subjects() {
		if x.s.auth.canRead(ctx, streamOfSubject(subj)) {
			out.Subjects = append(out.Subjects, subj)
		}
	}
	return out, nil
}

func (x *schemaService) ListVersions(ctx context.Context, req *cairnv1.ListVersionsRequest) (*cairnv1.ListVersionsResponse, error) {
	reg, err := x.s.schemas.refresh(ctx)
	if err != nil {
		return nil, err
	}
	vs, err := reg.Versions(req.Subject)
	if err != nil {
		return nil, err
	}
	out := &cairnv1.ListVersionsResponse{}
	for _, v := range vs {
		out.Versions = append(out.Versions, int32(v))
	}
	return out, nil
}

func (x *schemaService) GetVersion(ctx context.Context, req *cairnv1.GetVersionRequest) (*cairnv1.GetVersionResponse, error) {
	n, err := parseVersion(req.Version)
	if err != nil {
		return nil, err
	}
	reg, err := x.s.schemas.refresh(ctx)
	if err != nil {
		return nil, err
	}
	v, err := reg.Version(req.Subject, n)
	if err != nil {
		return nil, err
	}
	return &cairnv1.GetVersionResponse{Version: x.s.schemas.toProto(v)}, nil
}

// visible refuses a version the caller may not read.
func (x *schemaService) visible(ctx context.Context, v schema.Version) error {
	if !x.s.auth.canRead(ctx, streamOfSubject(v.Subject)) {
		return errorf(CodePermissionDenied, "this token may not read stream %q, where subject %s is recorded", streamOfSubject(v.Subject), v.Subject)
	}
	return nil
}

func (x *schemaService) GetSchemaByFingerprint(ctx context.Context, req *cairnv1.GetSchemaByFingerprintRequest) (*cairnv1.GetSchemaByFingerprintResponse, error) {
	fp, err := schema.ParseFingerprint(req.Fingerprint)
	if err != nil {
		return nil, invalid("fingerprint %q is not 64 hex digits (the schema_fingerprint of an entry): %v", req.Fingerprint, err)
	}
	reg, err := x.s.schemas.refresh(ctx)
	if err != nil {
		return nil, err
	}
	v, err := reg.ByFingerprint(fp)
	if err != nil {
		return nil, err
	}
	if err := x.visible(ctx, v); err != nil {
		return nil, err
	}
	return &cairnv1.GetSchemaByFingerprintResponse{Version: x.s.schemas.toProto(v)}, nil
}

func (x *schemaService) GetSchemaByID(ctx context.Context, req *cairnv1.GetSchemaByIDRequest) (*cairnv1.GetSchemaByIDResponse, error) {
	reg, err := x.s.schemas.refresh(ctx)
	if err != nil {
		return nil, err
	}
	v, err := reg.ByID(int(req.Id))
	if err != nil {
		return nil, err
	}
	if err := x.visible(ctx, v); err != nil {
		return nil, err
	}
	return &cairnv1.GetSchemaByIDResponse{Version: x.s.schemas.toProto(v)}, nil
}

func (x *schemaService) CheckCompatibility(ctx context.Context, req *cairnv1.CheckCompatibilityRequest) (*cairnv1.CheckCompatibilityResponse, error) {
	n, err := parseVersion(req.Version)
	if err != nil {
		return nil, err
	}
	proposed, err := schema.Parse([]byte(req.Schema))
	if err != nil {
		return nil, errorf(CodeInvalidSchema, "the proposed schema is not a valid Avro schema: %v", err)
	}
	reg, err := x.s.schemas.refresh(ctx)
	if err != nil {
		return nil, err
	}
	ok, reason, err := reg.CheckAgainst(req.Subject, n, proposed)
	if err != nil {
		return nil, err
	}
	return &cairnv1.CheckCompatibilityResponse{Compatible: ok, Reason: reason, Mode: string(reg.Mode(req.Subject))}, nil
}
