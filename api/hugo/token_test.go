package hugo

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/cairnlog/cairn/journal"
)

func TestCheckpointTokenRoundTrip(t *testing.T) {
	for _, tok := range []CheckpointToken{
		{"s", 1, journal.Hash{}},
		{"shop", 42, someHash("x")},
		{strings.Repeat("a", 128), 1<<63 - 1, someHash("y")},
	} {
		s := tok.String()
		if len(s) > MaxCheckpointTokenLen {
			t.Errorf("token of %d characters, over MaxCheckpointTokenLen %d", len(s), MaxCheckpointTokenLen)
		}
		got, err := ParseCheckpointToken(s)
		if err != nil || got != tok {
			t.Errorf("ParseCheckpointToken(%q) = %+v, %v; want %+v", s, got, err, tok)
		}
	}
	if n := len(CheckpointToken{strings.Repeat("a", 128), 1, journal.Hash{}}.String()); n != MaxCheckpointTokenLen {
		t.Errorf("longest token is %d characters, MaxCheckpointTokenLen says %d", n, MaxCheckpointTokenLen)
	}
}

// rawToken builds token bytes by hand, with a correct checksum unless
// badSum is set.
func rawToken(version byte, n int, stream string, seq uint64, badSum bool) string {
	b := []byte{version, byte(n)}
	b = append(b, stream...)
	b = binary.BigEndian.AppendUint64(b, seq)
	b = append(b, make([]byte, journal.HashSize)...)
	sum := crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))
	if badSum {
		sum++
	}
	b = binary.BigEndian.AppendUint32(b, sum)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestParseCheckpointTokenRejects(t *testing.T) {
	good := CheckpointToken{"shop", 7, someHash("h")}.String()
	flipped := []byte(good)
	if flipped[10] == 'A' {
		flipped[10] = 'B'
	} else {
		flipped[10] = 'A'
	}
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	truncated := base64.RawURLEncoding.EncodeToString(raw[:len(raw)-3])
	cases := []struct {
		name, token, want string
	}{
		{"empty", "", "empty token"},
		{"not base64url", good[:20] + "+/" + good[22:], "not base64url"},
		{"padding", base64.URLEncoding.EncodeToString([]byte{1, 2, 3, 4}), "padding"},
		{"line break", good[:20] + "\n" + good[20:], "line break"},
		{"too long", strings.Repeat("A", MaxCheckpointTokenLen+1), "longer than any token"},
		{"too short", "AQ", "too short"},
		{"truncated", truncated, "truncated"},
		{"extra data", rawToken(1, 4, "shopX", 7, false), "truncated or has extra data"},
		{"version", rawToken(2, 4, "shop", 7, false), "version 2 is not supported"},
		{"zero stream length", rawToken(1, 0, "", 7, false), "out of range"},
		{"stream too long", rawToken(1, 129, "shop", 7, false), "out of range"},
		{"checksum", rawToken(1, 4, "shop", 7, true), "checksum does not match"},
		{"altered", string(flipped), "checksum does not match"},
		{"bad stream name", rawToken(1, 4, "sh/p", 7, false), "invalid stream name"},
		{"seq zero", rawToken(1, 4, "shop", 0, false), "seq 0 is out of range"},
		{"seq too big", rawToken(1, 4, "shop", 1<<63, false), "out of range"},
	}
	for _, c := range cases {
		_, err := ParseCheckpointToken(c.token)
		if !errors.Is(err, ErrBadCheckpointToken) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: ParseCheckpointToken(%q) = %v, want ErrBadCheckpointToken saying %q", c.name, c.token, err, c.want)
		}
	}
}

func FuzzParseCheckpointToken(f *testing.F) {
	f.Add(CheckpointToken{"shop", 7, someHash("h")}.String())
	f.Add("")
	f.Add("AQ")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := ParseCheckpointToken(s)
		if err != nil {
			if !errors.Is(err, ErrBadCheckpointToken) {
				t.Fatalf("error %v does not wrap ErrBadCheckpointToken", err)
			}
			return
		}
		if tok.String() != s {
			t.Fatalf("token %q parses to %+v, which prints as %q: a token must have one text form", s, tok, tok.String())
		}
	})
}
