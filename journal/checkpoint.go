package journal

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Checkpoint is a commitment to a stream's Merkle tree at one size, in the
// C2SP tlog-checkpoint format: origin line, decimal tree size, base64 root.
type Checkpoint struct {
	Origin string
	Size   uint64
	Root   Hash
}

// Text returns the checkpoint body that gets signed.
func (c Checkpoint) Text() string {
	return fmt.Sprintf("%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root[:]))
}

// Origin returns the checkpoint origin line for a stream: prefix "/" stream.
func Origin(prefix, stream string) string { return prefix + "/" + stream }

// ParseCheckpoint parses a checkpoint body (the note text, without signatures).
// Extension lines after the root are allowed and ignored.
func ParseCheckpoint(text string) (Checkpoint, error) {
	lines := strings.Split(text, "\n")
	if len(lines) < 4 || !strings.HasSuffix(text, "\n") {
		return Checkpoint{}, fmt.Errorf("%w: want origin, size and root lines, got %q", ErrBadCheckpoint, text)
	}
	var c Checkpoint
	c.Origin = lines[0]
	if c.Origin == "" {
		return c, fmt.Errorf("%w: empty origin line", ErrBadCheckpoint)
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || (len(lines[1]) > 1 && lines[1][0] == '0') {
		return c, fmt.Errorf("%w: tree size %q is not a decimal number", ErrBadCheckpoint, lines[1])
	}
	c.Size = size
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != HashSize {
		return c, fmt.Errorf("%w: root %q is not a base64 SHA-256 hash", ErrBadCheckpoint, lines[2])
	}
	copy(c.Root[:], root)
	return c, nil
}

// SignedCheckpoint is a checkpoint plus its signed note bytes.
type SignedCheckpoint struct {
	Checkpoint
	Note []byte // the full signed note, as printed and served
}

// SignCheckpoint signs c as a note with signer.
func SignCheckpoint(c Checkpoint, signer note.Signer) (SignedCheckpoint, error) {
	msg, err := note.Sign(&note.Note{Text: c.Text()}, signer)
	if err != nil {
		return SignedCheckpoint{}, fmt.Errorf("sign checkpoint for %s at size %d: %w", c.Origin, c.Size, err)
	}
	return SignedCheckpoint{Checkpoint: c, Note: msg}, nil
}

// OpenCheckpoint verifies a signed checkpoint note against a verifier key
// (the text form "name+hash+base64") and parses it.
func OpenCheckpoint(msg []byte, verifierKey string) (Checkpoint, error) {
	v, err := note.NewVerifier(strings.TrimSpace(verifierKey))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%w: public key: %v", ErrBadSigningKey, err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return ParseCheckpoint(n.Text)
}

// GenerateSigningKey makes a new Ed25519 note key pair named name, returning
// the private key text (keep it secret) and the public verifier key text.
func GenerateSigningKey(name string) (skey, vkey string, err error) {
	skey, vkey, err = note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", "", fmt.Errorf("%w: generate: %v", ErrBadSigningKey, err)
	}
	return skey, vkey, nil
}

// NewSigner parses a private note key ("PRIVATE+KEY+name+hash+base64").
func NewSigner(skey string) (note.Signer, error) {
	s, err := note.NewSigner(string(bytes.TrimSpace([]byte(skey))))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSigningKey, err)
	}
	return s, nil
}

// ParseSignedCheckpoint splits a signed note into its checkpoint without
// verifying the signature (use OpenCheckpoint for that).
func ParseSignedCheckpoint(msg []byte) (SignedCheckpoint, error) {
	i := bytes.LastIndex(msg, []byte("\n\n"))
	if i < 0 {
		return SignedCheckpoint{}, fmt.Errorf("%w: no signature block", ErrBadCheckpoint)
	}
	c, err := ParseCheckpoint(string(msg[:i+1]))
	if err != nil {
		return SignedCheckpoint{}, err
	}
	return SignedCheckpoint{Checkpoint: c, Note: append([]byte(nil), msg...)}, nil
}

// VerifierKeyFromSigningKey derives the public verifier key text from a note
// private key text (PRIVATE+KEY+name+hash+base64(alg || Ed25519 seed)).
func VerifierKeyFromSigningKey(skey string) (string, error) {
	parts := strings.SplitN(strings.TrimSpace(skey), "+", 5)
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
		return "", fmt.Errorf("%w: not a PRIVATE+KEY+name+hash+key text", ErrBadSigningKey)
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return "", fmt.Errorf("%w: key material is not an Ed25519 seed", ErrBadSigningKey)
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(parts[2], pub)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadSigningKey, err)
	}
	return vkey, nil
}
