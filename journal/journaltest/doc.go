// Package journaltest is the conformance suite for journal.Store backends:
// ordering, gap-free seqs, chain links, dedup by source position and by
// producer, durability across reopen, concurrent appenders, proofs,
// checkpoints, waiting past the head, bad input and determinism.
package journaltest
