package main

import "errors"

// errProofCheck starts every reason 'cairn proof check' rejects a proof.
var errProofCheck = errors.New("proof check failed")
