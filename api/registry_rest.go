package api

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/hamba/avro/v2"
	"google.golang.org/grpc/status"

	cairnv1 "github.com/cairnlog/cairn/api/cairnv1"
	"github.com/cairnlog/cairn/schema"
)

// The Confluent Schema Registry subset mounted at /registry, so existing
// Avro tooling (serializers, schema-registry clients) can read Cairn's
// schemas. It answers in Confluent's shapes and error codes and goes
// through the SchemaService (and so through auth) like every REST call.

const confluentType = "application/vnd.schemaregistry.v1+json"

type confluentError struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

// Confluent's error codes.
const (
	errSubjectNotFound = 40401
	errVersionNotFound = 40402
	errSchemaNotFound  = 40403
	errInvalidSchema   = 42201
	errInvalidVersion  = 42202
)

func writeConfluent(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", confluentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// confluentFail maps an API error to Confluent's codes; notFound is the
// code a NOT_FOUND means at this endpoint.
func confluentFail(w http.ResponseWriter, err error, notFound int) {
	code := CodeFromStatus(err)
	switch code {
	case CodeUnknownSchema:
		writeConfluent(w, http.StatusNotFound, confluentError{notFound, statusMessage(err)})
	case CodeInvalidSchema:
		writeConfluent(w, http.StatusUnprocessableEntity, confluentError{errInvalidSchema, statusMessage(err)})
	case CodeInvalidArgument:
		writeConfluent(w, http.StatusUnprocessableEntity, confluentError{errInvalidVersion, statusMessage(err)})
	default:
		writeError(w, err) // auth and server failures: Cairn's own body
	}
}

type confluentVersion struct {
	Subject string `json:"subject"`
	Version int32  `json:"version"`
	ID      int32  `json:"id"`
	Schema  string `json:"schema"`
}

func (s *Server) registryRoutes(mux *runtime.ServeMux) error {
	svc := cairnv1.NewSchemaServiceClient(s.gwConn)
	routes := []struct {
		method, path string
		h            runtime.HandlerFunc
	}{
		{"GET", "/registry/subjects", func(w http.ResponseWriter, r *http.Request, _ map[string]string) {
			resp, err := svc.ListSubjects(outgoing(r), &cairnv1.ListSubjectsRequest{})
			if err != nil {
				confluentFail(w, err, errSubjectNotFound)
				return
			}
			writeConfluent(w, 200, append([]string{}, resp.Subjects...))
		}},
		{"GET", "/registry/subjects/{subject}/versions", func(w http.ResponseWriter, r *http.Request, p map[string]string) {
			resp, err := svc.ListVersions(outgoing(r), &cairnv1.ListVersionsRequest{Subject: p["subject"]})
			if err != nil {
				confluentFail(w, err, errSubjectNotFound)
				return
			}
			writeConfluent(w, 200, append([]int32{}, resp.Versions...))
		}},
		{"GET", "/registry/subjects/{subject}/versions/{version}", func(w http.ResponseWriter, r *http.Request, p map[string]string) {
			ctx := outgoing(r)
			if _, err := svc.ListVersions(ctx, &cairnv1.ListVersionsRequest{Subject: p["subject"]}); err != nil {
				confluentFail(w, err, errSubjectNotFound)
				return
			}
			resp, err := svc.GetVersion(ctx, &cairnv1.GetVersionRequest{Subject: p["subject"], Version: p["version"]})
			if err != nil {
				confluentFail(w, err, errVersionNotFound)
				return
			}
			v := resp.Version
			writeConfluent(w, 200, confluentVersion{v.Subject, v.Version, v.Id, v.Schema})
		}},
		{"GET", "/registry/schemas/ids/{id}", func(w http.ResponseWriter, r *http.Request, p map[string]string) {
			id, err := strconv.ParseInt(p["id"], 10, 32)
			if err != nil || id < 1 {
				writeConfluent(w, http.StatusNotFound, confluentError{errSchemaNotFound, "schema id " + p["id"] + " is not a positive number"})
				return
			}
			resp, err := svc.GetSchemaByID(outgoing(r), &cairnv1.GetSchemaByIDRequest{Id: int32(id)})
			if err != nil {
				confluentFail(w, err, errSchemaNotFound)
				return
			}
			writeConfluent(w, 200, map[string]string{"schema": resp.Version.Schema})
		}},
		{"POST", "/registry/subjects/{subject}", func(w http.ResponseWriter, r *http.Request, p map[string]string) {
			proposed, ok := readConfluentSchema(w, r)
			if !ok {
				return
			}
			ctx := outgoing(r)
			vs, err := svc.ListVersions(ctx, &cairnv1.ListVersionsRequest{Subject: p["subject"]})
			if err != nil {
				confluentFail(w, err, errSubjectNotFound)
				return
			}
			want := schema.FingerprintOf(proposed).String()
			for _, n := range vs.Versions {
				resp, err := svc.GetVersion(ctx, &cairnv1.GetVersionRequest{Subject: p["subject"], Version: strconv.Itoa(int(n))})
				if err != nil {
					confluentFail(w, err, errVersionNotFound)
					return
				}
				if v := resp.Version; v.Fingerprint == want {
					writeConfluent(w, 200, confluentVersion{v.Subject, v.Version, v.Id, v.Schema})
					return
				}
			}
			writeConfluent(w, http.StatusNotFound, confluentError{errSchemaNotFound, "subject " + p["subject"] + " has no version with this schema"})
		}},
		{"POST", "/registry/compatibility/subjects/{subject}/versions/{version}", func(w http.ResponseWriter, r *http.Request, p map[string]string) {
			proposed, ok := readConfluentSchema(w, r)
			if !ok {
				return
			}
			js, _ := schema.MarshalSchema(proposed)
			resp, err := svc.CheckCompatibility(outgoing(r), &cairnv1.CheckCompatibilityRequest{Subject: p["subject"], Version: p["version"], Schema: string(js)})
			if err != nil {
				confluentFail(w, err, errVersionNotFound)
				return
			}
			out := map[string]any{"is_compatible": resp.Compatible}
			if resp.Reason != "" {
				out["messages"] = []string{resp.Reason}
			}
			writeConfluent(w, 200, out)
		}},
	}
	for _, rt := range routes {
		if err := mux.HandlePath(rt.method, rt.path, rt.h); err != nil {
			return err
		}
	}
	return nil
}

// readConfluentSchema reads {"schema": "<Avro JSON>"} (schemaType AVRO or
// absent) and parses it, answering 422 on anything else.
func readConfluentSchema(w http.ResponseWriter, r *http.Request) (avro.Schema, bool) {
	var body struct {
		Schema     string `json:"schema"`
		SchemaType string `json:"schemaType"`
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err == nil {
		err = json.Unmarshal(b, &body)
	}
	if err != nil || body.Schema == "" {
		writeConfluent(w, http.StatusUnprocessableEntity, confluentError{errInvalidSchema, `send {"schema": "<Avro schema JSON as a string>"}`})
		return nil, false
	}
	if body.SchemaType != "" && body.SchemaType != "AVRO" {
		writeConfluent(w, http.StatusUnprocessableEntity, confluentError{errInvalidSchema, "only AVRO schemas are served here, not " + body.SchemaType})
		return nil, false
	}
	s, err := schema.Parse([]byte(body.Schema))
	if err != nil {
		writeConfluent(w, http.StatusUnprocessableEntity, confluentError{errInvalidSchema, "invalid Avro schema: " + err.Error()})
		return nil, false
	}
	return s, true
}

func statusMessage(err error) string {
	st, _ := status.FromError(err)
	return st.Message()
}
