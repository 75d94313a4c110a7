// Package pulsarstore is the journal backend on Apache Pulsar: replicated
// by BookKeeper, written by one node per stream, readable from every node.
//
// What lives in Pulsar (the truth, shared by all nodes):
//
//   - One non-partitioned persistent topic per stream, Config.EntriesTopic:
//     persistent://<namespace>/<prefix><stream>. Each message is one entry;
//     its payload is exactly the stored entry bytes, prev_hash ||
//     canonical(entry) (docs/formats/journal.md), so the topic alone is a
//     verifiable journal. Producer name = stream, SequenceID = seq, batching
//     off, event time = the entry's recorded_at (milliseconds).
//   - One topic of signed checkpoints per stream, Config.CheckpointTopic:
//     <entries topic>=checkpoints, one signed note per message, SequenceID =
//     tree size.
//   - Namespace policies: deduplication on (checked at Open, and per topic
//     when a node takes a stream), infinite retention, no deletion of
//     inactive topics.
//
// What lives on each node (Config.Dir/cache, a Badger database rebuilt from
// the topics whenever it is missing, stale or from another namespace): per
// stream the head (seq, hash, high-water source position, message of the
// head), and per entry its hash, its message id (ledger:entry, so Read seeks
// straight to any seq), the Merkle nodes its leaf completed (proofs), plus
// the dedup indexes (source position -> seq, (producer_id, producer_seq) ->
// seq). Nothing in it is authoritative; deleting it costs one scan of the
// topics at the next start.
//
// One writer per stream: a node writes a stream only while it holds the
// topic's producer in WaitForExclusive access mode. AcquireStream waits for
// it (a standby's leader election), then reads the topic from the indexed
// head to its last message, checking the chain, so seq, prev_hash, the
// Merkle tree and the dedup state continue exactly where the previous
// writer stopped. Other nodes follow the topic into their own index.
//
// Appends are sent asynchronously under a per-stream send lock; an acker
// answers them in order once the broker acknowledged them, after adding
// their index records to an in-memory overlay and publishing the head; a
// flusher writes the overlay to the local index. A failed send poisons the
// stream's writer (nothing is published past it). See writer.go and ack.go,
// and docs/pulsar.md for the design, the errors and the tests.
package pulsarstore
