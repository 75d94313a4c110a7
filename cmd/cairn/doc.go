// Command cairn is the offline command-line tool for a Cairn data dir. It
// opens the embedded Badger journal directly (so it must not run while cairnd
// holds the same dir) and offers append, tail, verify, checkpoint, proof and
// keys commands. The reference, with every flag, output format and exit
// code, is docs/cli.md.
//
// This package is wiring only: flags, environment, files and output
// formatting. Every rule about entries, hashes, proofs and checkpoints lives
// in package journal and its backends.
package main
