package badgerstore

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
)

// ParseKeyFile reads an AES master key from the contents of a key file: 32,
// 48 or 64 hex characters (surrounding whitespace ignored) or, failing that,
// exactly 16, 24 or 32 raw bytes. Hex wins when both readings are possible.
func ParseKeyFile(b []byte) ([]byte, error) {
	if key, err := ParseHexKey(string(bytes.TrimSpace(b))); err == nil {
		return key, nil
	}
	switch len(b) {
	case 16, 24, 32:
		return append([]byte(nil), b...), nil
	}
	return nil, fmt.Errorf("want 32, 48 or 64 hex characters, or exactly 16, 24 or 32 raw bytes; the file has %d bytes", len(b))
}

// ParseHexKey parses a hex AES master key (for CAIRN_ENCRYPTION_KEY).
func ParseHexKey(s string) ([]byte, error) {
	switch len(s) {
	case 32, 48, 64:
	default:
		return nil, fmt.Errorf("want 32, 48 or 64 hex characters (an AES-128, -192 or -256 key), got %d characters", len(s))
	}
	key, err := hex.DecodeString(s)
	if err != nil {
		return nil, errors.New("the key is not valid hex")
	}
	return key, nil
}
