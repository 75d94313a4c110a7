package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/replay"
	"github.com/cairnlog/cairn/replay/queue"
	"github.com/cairnlog/cairn/schema"
)

// Code names one kind of API failure. It travels as the reason of a
// google.rpc.ErrorInfo (domain "cairn.dev") on gRPC and as "code" in REST
// error bodies, so clients can branch on it without parsing messages.
type Code string

// The error catalog: every failure the API reports is one of these.
const (
	CodeInvalidArgument    Code = "INVALID_ARGUMENT"
	CodeUnknownStream      Code = "UNKNOWN_STREAM"
	CodeBeyondHead         Code = "BEYOND_HEAD"
	CodeHashMismatch       Code = "HASH_MISMATCH"
	CodeUnknownSubscriber  Code = "UNKNOWN_SUBSCRIPTION"
	CodeUnknownGroup       Code = "UNKNOWN_GROUP"
	CodeLeaseInactive      Code = "LEASE_INACTIVE"
	CodeNoCheckpoint       Code = "NO_CHECKPOINT"
	CodeUnknownSchema      Code = "UNKNOWN_SCHEMA"
	CodeInvalidSchema      Code = "INVALID_SCHEMA"
	CodeVerifyFailed       Code = "VERIFY_FAILED"
	CodeUnauthenticated    Code = "UNAUTHENTICATED"
	CodePermissionDenied   Code = "PERMISSION_DENIED"
	CodeUnavailable        Code = "UNAVAILABLE"
	CodeDeadlineOrCanceled Code = "CANCELED"
	CodeInternal           Code = "INTERNAL"
)

// ErrorDomain is the ErrorInfo domain of Cairn's errors.
const ErrorDomain = "cairn.dev"

type catalogEntry struct {
	grpc codes.Code
	http int
}

// catalog maps each code to its gRPC code and HTTP status: the one place
// where they are decided.
var catalog = map[Code]catalogEntry{
	CodeInvalidArgument:    {codes.InvalidArgument, http.StatusBadRequest},
	CodeUnknownStream:      {codes.NotFound, http.StatusNotFound},
	CodeBeyondHead:         {codes.OutOfRange, http.StatusRequestedRangeNotSatisfiable},
	CodeHashMismatch:       {codes.Aborted, http.StatusConflict},
	CodeUnknownSubscriber:  {codes.NotFound, http.StatusNotFound},
	CodeUnknownGroup:       {codes.NotFound, http.StatusNotFound},
	CodeLeaseInactive:      {codes.FailedPrecondition, http.StatusPreconditionFailed},
	CodeNoCheckpoint:       {codes.NotFound, http.StatusNotFound},
	CodeUnknownSchema:      {codes.NotFound, http.StatusNotFound},
	CodeInvalidSchema:      {codes.InvalidArgument, http.StatusUnprocessableEntity},
	CodeVerifyFailed:       {codes.DataLoss, http.StatusInternalServerError},
	CodeUnauthenticated:    {codes.Unauthenticated, http.StatusUnauthorized},
	CodePermissionDenied:   {codes.PermissionDenied, http.StatusForbidden},
	CodeUnavailable:        {codes.Unavailable, http.StatusServiceUnavailable},
	CodeDeadlineOrCanceled: {codes.Canceled, 499},
	CodeInternal:           {codes.Internal, http.StatusInternalServerError},
}

// sentinels maps package errors to catalog codes, most specific first.
var sentinels = []struct {
	err  error
	code Code
}{
	{replay.ErrHashMismatch, CodeHashMismatch},
	{replay.ErrBeyondHead, CodeBeyondHead},
	{replay.ErrNoSubscription, CodeUnknownSubscriber},
	{replay.ErrInvalidArgument, CodeInvalidArgument},
	{queue.ErrLeaseInactive, CodeLeaseInactive},
	{queue.ErrUnknownGroup, CodeUnknownGroup},
	{queue.ErrInvalidArgument, CodeInvalidArgument},
	{queue.ErrClosed, CodeUnavailable},
	{queue.ErrCorruptState, CodeVerifyFailed},
	{schema.ErrNotFound, CodeUnknownSchema},
	{schema.ErrMode, CodeInvalidArgument},
	{journal.ErrUnknownStream, CodeUnknownStream},
	{journal.ErrBadStreamName, CodeInvalidArgument},
	{journal.ErrInvalidEntry, CodeInvalidArgument},
	{journal.ErrBadHash, CodeInvalidArgument},
	{journal.ErrSeqOutOfRange, CodeBeyondHead},
	{journal.ErrBadTreeSize, CodeInvalidArgument},
	{journal.ErrNoCheckpoint, CodeNoCheckpoint},
	{journal.ErrVerifyMismatch, CodeVerifyFailed},
	{journal.ErrCorrupt, CodeVerifyFailed},
	{journal.ErrClosed, CodeUnavailable},
	{journal.ErrStoreFailed, CodeUnavailable},
	{context.Canceled, CodeDeadlineOrCanceled},
	{context.DeadlineExceeded, CodeDeadlineOrCanceled},
}

// Error is an API failure with its catalog code.
type Error struct {
	Code Code
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// errorf makes an API error with a catalog code.
func errorf(code Code, format string, args ...any) error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// invalid reports a bad request field.
func invalid(format string, args ...any) error { return errorf(CodeInvalidArgument, format, args...) }

// codeOf finds the catalog code for any error the services return.
func codeOf(err error) Code {
	var ae *Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.code
		}
	}
	if st, ok := status.FromError(err); ok {
		for c, e := range catalog {
			if e.grpc == st.Code() && st.Code() != codes.NotFound {
				return c
			}
		}
	}
	return CodeInternal
}

// toStatus turns a service error into the gRPC status clients see.
func toStatus(err error) error {
	if err == nil || errors.Is(err, io.EOF) {
		return err
	}
	if _, ok := err.(interface{ GRPCStatus() *status.Status }); ok {
		if _, isAPI := err.(*Error); !isAPI {
			return err
		}
	}
	code := codeOf(err)
	st := status.New(catalog[code].grpc, err.Error())
	if withInfo, derr := st.WithDetails(&errdetails.ErrorInfo{Reason: string(code), Domain: ErrorDomain}); derr == nil {
		st = withInfo
	}
	return st.Err()
}

// CodeFromStatus extracts the catalog code from a gRPC error (for clients).
func CodeFromStatus(err error) Code {
	st, ok := status.FromError(err)
	if !ok {
		return ""
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.Domain == ErrorDomain {
			return Code(info.Reason)
		}
	}
	return ""
}

// httpStatus is the HTTP status for a catalog code.
func httpStatus(code Code) int {
	if e, ok := catalog[code]; ok {
		return e.http
	}
	return http.StatusInternalServerError
}
