// Package replay reads the journal for subscribers (DESIGN.md §6).
//
// A Cursor delivers one stream in seq order from a seq: catch-up, then with
// Follow live tailing (journal.Store.Wait). It can filter (Filter: tables,
// ops, kinds, with a documented rule for transaction frames), hold back
// entries of transactions whose tx_commit is not durable yet (TxComplete,
// with memory bounded by the page size however large the transaction), and
// recompute every hash and chain link as it reads (Verify). Position says
// how far the cursor has read, delivered or filtered out, so a consumer can
// checkpoint even when nothing matches.
//
// Checkpoints keeps named subscription positions (seq, hash) in the state
// store (package replay/state, keys "sub/<stream>/<name>"). A commit whose
// hash is not the journal's hash at that seq is refused with
// ErrHashMismatch: a consumer on a forked or different history finds out at
// once.
//
// Consumer groups (leases, acks, nacks, dead letters) are in replay/queue.
//
// Allowed imports: journal, schema and replay's own packages (DESIGN.md §1);
// package replay itself uses journal and replay/state only (its tests also
// use journal/badgerstore).
package replay
