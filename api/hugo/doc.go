// Package hugo renders journal records in the Hugo profile: one JSON object
// per entry, shaped for .NET consumers built on Hugo and OmniRelay (task-queue
// replication sinks, deterministic effect stores, version gates). The REST API
// serves it for ?profile=hugo (NDJSON when streaming) and the gRPC API puts it
// in Entry.hugo_json for PROFILE_HUGO.
//
// The contract (every field, its JSON type and source, the kind mapping, the
// changeId and effectId rules, the checkpoint token) is docs/contracts/hugo.md.
// Tests read that document's tables and check the golden fixture
// testdata/envelopes.json against them, so the three cannot drift.
//
// In short:
//
//   - Every field is always written, in a fixed order; absent values are an
//     explicit null. Metadata keys are sorted. The same record and Options
//     always give the same bytes.
//   - Integers (sequence, prevSequence, kind, flags, schemaVersion,
//     producerSeq) are JSON numbers written as exact decimal digits, never
//     strings, whatever their size.
//   - Timestamps are RFC 3339 in UTC ("Z"), with the fraction of a second
//     trimmed of trailing zeros (time.RFC3339Nano).
//   - Bytes are standard base64 with padding; hashes are lowercase hex.
//   - kind = 100 + the journal kind, so it never collides with Hugo's
//     TaskQueue kinds (0-8) or OmniRelay's ResourceLease event types (1-7).
//   - changeId = "cairn.{stream}.{table}" for row entries and
//     "cairn.{stream}.{kind}" for the rest, shortened with a SHA-256 suffix
//     when needed so that effectId = "{changeId}::v{schemaVersion}::{stream}/{seq}"
//     never exceeds 256 UTF-16 code units (Hugo's SQL key column).
//   - checkpointToken is base64url (no padding) of
//     u8 version(1) | u8 len | stream | u64 seq | 32-byte hash | u32 CRC-32C,
//     parsed back by ParseCheckpointToken.
//
// AppendRender writes straight into the caller's buffer without reflection;
// for a typical CDC row it allocates nothing.
package hugo
