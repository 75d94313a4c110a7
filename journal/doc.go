// Package journal defines Cairn's tamper-evident journal: the Entry, its
// canonical byte encoding, the hash chain, the RFC 6962 Merkle tree over
// entry hashes, signed checkpoints, inclusion and consistency proofs, offline
// verification, and the Store contract that backends implement
// (journal/badgerstore, later journal/pulsarstore). The conformance suite
// every backend must pass is in journal/journaltest.
//
// # Entry bytes
//
// What a backend stores for an entry, and what is hashed, is
//
//	entry_bytes = prev_hash || canonical(entry)
//	hash        = SHA-256("cairn.entry.v1" || entry_bytes)
//
// prev_hash is the hash of the previous entry of the stream (32 zero bytes
// for seq 1). canonical(entry) is, in this fixed order, with every integer
// big-endian and every str/bytes field written as a u32 length followed by
// that many bytes:
//
//	u8     version            = 1
//	str    stream
//	u64    seq                (1, 2, 3, ... per stream)
//	u8     kind               1 change, 2 tx_begin, 3 tx_commit, 4 schema,
//	                          5 snapshot_read, 6 heartbeat, 7 app_event,
//	                          8 gap, 9 checkpoint
//	str    source_id
//	bytes  source_position    opaque; compared bytewise for dedup
//	str    tx_id
//	i64    commit_time        Unix nanoseconds UTC from the source; 0 = none
//	str    table
//	u8     op                 0 none, 1 insert, 2 update, 3 delete,
//	                          4 truncate, 5 ddl
//	bytes  key
//	bytes  before
//	bytes  after
//	bytes  schema_fingerprint
//	str    producer_id
//	u64    producer_seq
//	bytes  payload
//	u32    metadata count, then per pair sorted by key bytes: str key, str value
//
// An empty field and an absent field encode the same (length 0). Decoding is
// strict: unknown version, kind or op, a length past the end, unsorted or
// repeated metadata keys and trailing bytes are all ErrCorrupt, so every
// entry has exactly one encoding. recorded_at (the local append time) is
// stored beside the entry by each backend and is not hashed.
//
// # Merkle tree and checkpoints
//
// Leaf i (0-based, seq i+1) of a stream's tree is SHA-256(0x00 || hash);
// interior nodes are SHA-256(0x01 || left || right) (RFC 6962, via
// golang.org/x/mod/sumdb/tlog). Stored node hashes use tlog's storage index.
// A checkpoint is the C2SP tlog-checkpoint text
//
//	<origin>\n<tree size>\n<base64 root>\n
//
// with origin "<log name>/<stream>", signed as a note with Ed25519
// (golang.org/x/mod/sumdb/note).
//
// The same layout, with a worked example, is in docs/formats/journal.md;
// TestCanonicalGolden pins it.
package journal
