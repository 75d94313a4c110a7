package api

import (
	"context"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	cairnv1 "github.com/cairnlog/cairn/api/cairnv1"
	"github.com/cairnlog/cairn/replay"
	"github.com/cairnlog/cairn/schema"
)

func toSchemaVersion(log *replay.SchemaLog, ver schema.Version) *cairnv1.SchemaVersion {
	out := &cairnv1.SchemaVersion{
		Subject: ver.Subject, Version: int32(ver.Version), Id: int32(ver.ID),
		Fingerprint: ver.Fingerprint.String(), Schema: string(ver.JSON),
		Mode: string(ver.Mode), Compatible: ver.Compatible, Reason: ver.Reason,
	}
	if w, ok := log.Where(ver.Fingerprint); ok {
		out.Stream, out.Seq = w.Stream, w.Seq
		if !w.At.IsZero() {
			out.RecordedAt = timestamppb.New(w.At)
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
	reg, err := x.s.schemas.Refresh(ctx)
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
	reg, err := x.s.schemas.Refresh(ctx)
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
	reg, err := x.s.schemas.Refresh(ctx)
	if err != nil {
		return nil, err
	}
	v, err := reg.Version(req.Subject, n)
	if err != nil {
		return nil, err
	}
	return &cairnv1.GetVersionResponse{Version: toSchemaVersion(x.s.schemas, v)}, nil
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
	reg, err := x.s.schemas.Refresh(ctx)
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
	return &cairnv1.GetSchemaByFingerprintResponse{Version: toSchemaVersion(x.s.schemas, v)}, nil
}

func (x *schemaService) GetSchemaByID(ctx context.Context, req *cairnv1.GetSchemaByIDRequest) (*cairnv1.GetSchemaByIDResponse, error) {
	reg, err := x.s.schemas.Refresh(ctx)
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
	return &cairnv1.GetSchemaByIDResponse{Version: toSchemaVersion(x.s.schemas, v)}, nil
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
	reg, err := x.s.schemas.Refresh(ctx)
	if err != nil {
		return nil, err
	}
	ok, reason, err := reg.CheckAgainst(req.Subject, n, proposed)
	if err != nil {
		return nil, err
	}
	return &cairnv1.CheckCompatibilityResponse{Compatible: ok, Reason: reason, Mode: string(reg.Mode(req.Subject))}, nil
}
