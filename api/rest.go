package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	cairnv1 "github.com/cairnlog/cairn/api/cairnv1"
)

// restErrorBody is the JSON body of every REST error (docs/api.md).
type restErrorBody struct {
	Code     string `json:"code"`
	Message  string `json:"message"`
	GRPCCode string `json:"grpc_code"`
}

// restError writes a gRPC error as the catalog's HTTP status and body.
func restError(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, _ *http.Request, err error) {
	writeError(w, err)
}

func writeError(w http.ResponseWriter, err error) {
	st, _ := status.FromError(err)
	code := CodeFromStatus(err)
	httpCode := httpStatus(code)
	if code == "" {
		// Not from our services: the gateway's own failures (bad query
		// parameters, malformed JSON bodies, unknown paths).
		httpCode = runtime.HTTPStatusFromCode(st.Code())
		switch st.Code() {
		case codes.InvalidArgument:
			code = CodeInvalidArgument
		case codes.Unauthenticated:
			code = CodeUnauthenticated
		case codes.NotFound, codes.Unimplemented:
			code = "NOT_FOUND"
			httpCode = http.StatusNotFound
		default:
			code = Code(codeName(st.Code()))
		}
	}
	msg := st.Message()
	if httpCode == http.StatusNotFound && code == "NOT_FOUND" {
		msg = "no such endpoint: " + msg + " (see /v1/openapi.json for the API)"
	}
	w.Header().Set("Content-Type", "application/json")
	if httpCode == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="cairn"`)
	}
	w.WriteHeader(httpCode)
	_ = json.NewEncoder(w).Encode(restErrorBody{Code: string(code), Message: msg, GRPCCode: codeName(st.Code())})
}

// outgoing forwards the caller's credentials to the in-process gRPC call.
func outgoing(r *http.Request) context.Context {
	ctx := r.Context()
	if a := r.Header.Get("Authorization"); a != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", a)
	}
	return ctx
}

// parseQuery fills msg from the query string the way the gateway does, with
// profile=hugo accepted besides the enum names.
func parseQuery(r *http.Request, msg proto.Message) (cairnv1.Profile, error) {
	q := r.URL.Query()
	profile := cairnv1.Profile_PROFILE_UNSPECIFIED
	if p := q.Get("profile"); p != "" {
		switch strings.ToLower(p) {
		case "hugo", "profile_hugo":
			profile = cairnv1.Profile_PROFILE_HUGO
		case "default", "profile_unspecified":
		default:
			return 0, status.Errorf(codes.InvalidArgument, "profile %q is not known: use profile=hugo or leave it out", p)
		}
		q.Del("profile")
	}
	if err := runtime.PopulateQueryParameters(msg, q, utilities.NewDoubleArray(nil)); err != nil {
		return 0, status.Errorf(codes.InvalidArgument, "bad query parameter: %v", err)
	}
	return profile, nil
}

var entryJSON = protojson.MarshalOptions{UseProtoNames: true}

// restEntries serves GET /v1/streams/{stream}/entries. It is the gateway's
// job except that ?profile=hugo must return the Hugo JSON itself.
func (s *Server) restEntries(w http.ResponseWriter, r *http.Request, params map[string]string) {
	req := &cairnv1.ReadEntriesRequest{}
	profile, err := parseQuery(r, req)
	if err != nil {
		writeError(w, err)
		return
	}
	req.Stream, req.Profile = params["stream"], profile
	resp, err := cairnv1.NewJournalServiceClient(s.gwConn).ReadEntries(outgoing(r), req)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if profile != cairnv1.Profile_PROFILE_HUGO {
		b, err := entryJSON.Marshal(resp)
		if err != nil {
			writeError(w, err)
			return
		}
		_, _ = w.Write(b)
		return
	}
	// Hugo profile: the entries are the Hugo objects; numbers stay numbers.
	var b []byte
	b = append(b, `{"entries":[`...)
	for i, e := range resp.Entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e.HugoJson...)
	}
	b = append(b, `],"nextSeq":`...)
	b = appendUint(b, resp.NextSeq)
	b = append(b, `,"headSeq":`...)
	b = appendUint(b, resp.HeadSeq)
	b = append(b, "}\n"...)
	_, _ = w.Write(b)
}

func appendUint(b []byte, v uint64) []byte {
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

// restSubscribe serves GET /v1/streams/{stream}:subscribe as NDJSON: one
// entry per line (protojson, or the Hugo object with profile=hugo), and with
// progress=true also {"progress": {...}} lines. A failure after the first
// line is reported as a last {"error": {...}} line.
func (s *Server) restSubscribe(w http.ResponseWriter, r *http.Request, params map[string]string) {
	withProgress := r.URL.Query().Get("progress") == "true"
	q := r.URL.Query()
	q.Del("progress")
	r.URL.RawQuery = q.Encode()
	req := &cairnv1.SubscribeRequest{}
	profile, err := parseQuery(r, req)
	if err != nil {
		writeError(w, err)
		return
	}
	req.Stream, req.Profile = params["stream"], profile
	stream, err := cairnv1.NewReplayServiceClient(s.gwConn).Subscribe(outgoing(r), req)
	if err != nil {
		writeError(w, err)
		return
	}
	flusher, _ := w.(http.Flusher)
	started := false
	var line []byte
	for {
		resp, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) || r.Context().Err() != nil {
				return
			}
			if !started {
				writeError(w, err)
				return
			}
			st, _ := status.FromError(err)
			b, _ := json.Marshal(map[string]restErrorBody{"error": {Code: string(CodeFromStatus(err)), Message: st.Message(), GRPCCode: codeName(st.Code())}})
			_, _ = w.Write(append(b, '\n'))
			return
		}
		if !started {
			started = true
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.WriteHeader(http.StatusOK)
		}
		line = line[:0]
		for _, e := range resp.Entries {
			if profile == cairnv1.Profile_PROFILE_HUGO {
				line = append(line, e.HugoJson...)
			} else {
				if line, err = entryJSON.MarshalAppend(line, e); err != nil {
					return
				}
			}
			line = append(line, '\n')
		}
		if withProgress && resp.Progress != nil {
			if profile == cairnv1.Profile_PROFILE_HUGO {
				line = appendHugoProgress(line, resp.Progress)
			} else {
				line = append(line, `{"progress":`...)
				if line, err = entryJSON.MarshalAppend(line, resp.Progress); err != nil {
					return
				}
				line = append(line, "}\n"...)
			}
		}
		if len(line) > 0 {
			if _, err := w.Write(line); err != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
	}
}

// codeName spells a gRPC code the way the protobuf enum does
// (InvalidArgument -> INVALID_ARGUMENT).
func codeName(c codes.Code) string {
	s := c.String()
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' && s[i-1] >= 'a' && s[i-1] <= 'z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

// appendHugoProgress writes a progress line in the Hugo profile's style:
// camelCase names and 64-bit numbers as JSON numbers.
func appendHugoProgress(b []byte, p *cairnv1.Progress) []byte {
	b = append(b, `{"progress":{"sequence":`...)
	b = appendUint(b, p.Seq)
	b = append(b, `,"hash":"`...)
	b = append(b, p.Hash...)
	b = append(b, `","headSequence":`...)
	b = appendUint(b, p.HeadSeq)
	if p.CaughtUp {
		b = append(b, `,"caughtUp":true}}`...)
	} else {
		b = append(b, `,"caughtUp":false}}`...)
	}
	return append(b, '\n')
}
