// Package badgerstore is the embedded journal backend on Badger v4.
//
// A data dir holds journal/ (the Badger files), cairn.json (format and
// whether the data is encrypted), and, unless a key is configured,
// signing.key (0600) and signing.pub. Key layout is in layout.go and
// docs/formats/journal.md.
//
// Appends go through one committer goroutine: it gathers every request that
// is waiting, assigns seqs, hashes, extends the Merkle edge, writes entries,
// producer index keys, the stream head (seq, hash, high-water source
// position) and, at most once per CheckpointInterval, a signed checkpoint in
// one Badger transaction, then calls DB.Sync once for the whole group
// (group commit). Only after the sync are the new heads published to
// readers and the callers answered. A failed write or sync poisons the store:
// later appends fail with journal.ErrStoreFailed until it is reopened, which
// recovers exactly what reached the disk.
package badgerstore
