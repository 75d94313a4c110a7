package hugo

import "errors"

// Sentinel errors, wrapped with %w and the detail of what was wrong.
var (
	// ErrUnrenderable: a record cannot be rendered in the Hugo profile
	// (no seq, an unknown kind, a timestamp outside years 1-9999, ...).
	// Records read back from a journal store always render.
	ErrUnrenderable = errors.New("record cannot be rendered in the Hugo profile")

	// ErrBadCheckpointToken: a checkpoint token is not one Render produced.
	ErrBadCheckpointToken = errors.New("invalid checkpoint token")
)
