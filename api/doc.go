// Package api will hold the cairn.v1 protobuf contracts (api/proto), the
// generated code, the gRPC server with its REST gateway and OpenAPI document,
// the error catalog and the Go client.
//
// Allowed imports: replay, schema, journal.
package api
