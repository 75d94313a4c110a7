package schema

import (
	"fmt"
	"unicode/utf8"
)

// scanner reads one canonical row image (a JSON object without
// whitespace; see docs/formats/row-json.md). It never allocates: strings
// are unescaped into a scratch buffer owned by the caller.
type scanner struct {
	src []byte
	pos int
}

func (s *scanner) errf(format string, args ...any) error {
	return fmt.Errorf("row image byte %d: %s: %w", s.pos, fmt.Sprintf(format, args...), ErrRowShape)
}

func (s *scanner) peek() byte {
	if s.pos < len(s.src) {
		return s.src[s.pos]
	}
	return 0
}

func (s *scanner) expect(c byte) bool {
	if s.pos < len(s.src) && s.src[s.pos] == c {
		s.pos++
		return true
	}
	return false
}

func (s *scanner) literal(lit string) bool {
	if len(s.src)-s.pos >= len(lit) && string(s.src[s.pos:s.pos+len(lit)]) == lit {
		s.pos += len(lit)
		return true
	}
	return false
}

// number returns the bytes of a JSON number at pos (validated loosely:
// the value parsers check the exact form).
func (s *scanner) number() ([]byte, bool) {
	start := s.pos
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		if c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			s.pos++
			continue
		}
		break
	}
	return s.src[start:s.pos], s.pos > start
}

// str reads a JSON string at pos and returns its content. Without
// escapes the content aliases src; otherwise it is unescaped into
// *scratch (appended; the caller resets it). The escape \ufffd becomes
// invalidByte (see jsonstr.go).
func (s *scanner) str(scratch *[]byte) ([]byte, error) {
	if !s.expect('"') {
		return nil, s.errf("want a string")
	}
	start := s.pos
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		if c == '"' {
			out := s.src[start:s.pos]
			s.pos++
			return out, nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return nil, s.errf("control byte in a string")
		}
		s.pos++
	}
	if s.pos >= len(s.src) {
		return nil, s.errf("unterminated string")
	}
	base := len(*scratch)
	buf := append(*scratch, s.src[start:s.pos]...)
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		switch {
		case c == '"':
			s.pos++
			*scratch = buf
			return buf[base:], nil
		case c < 0x20:
			return nil, s.errf("control byte in a string")
		case c != '\\':
			buf = append(buf, c)
			s.pos++
			continue
		}
		if s.pos+1 >= len(s.src) {
			return nil, s.errf("unterminated escape")
		}
		e := s.src[s.pos+1]
		s.pos += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return nil, s.errf("bad \\u escape")
			}
			if r == utf8.RuneError {
				buf = append(buf, invalidByte)
				continue
			}
			if r >= 0xd800 && r < 0xe000 {
				// Canonical row images never escape non-ASCII; a surrogate
				// escape is not something this codec reproduces.
				return nil, s.errf("surrogate escape")
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return nil, s.errf("bad escape")
		}
	}
	return nil, s.errf("unterminated string")
}

func (s *scanner) hex4() (rune, bool) {
	if s.pos+4 > len(s.src) {
		return 0, false
	}
	var r rune
	for _, c := range s.src[s.pos : s.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	s.pos += 4
	return r, true
}

// skip skips one JSON value (used to count array elements).
func (s *scanner) skip(depth int) error {
	if depth > 64 {
		return s.errf("nesting too deep")
	}
	switch c := s.peek(); {
	case c == '"':
		for s.pos++; s.pos < len(s.src); s.pos++ {
			switch s.src[s.pos] {
			case '\\':
				s.pos++
			case '"':
				s.pos++
				return nil
			}
		}
		return s.errf("unterminated string")
	case c == '[' || c == '{':
		closer := byte(']')
		if c == '{' {
			closer = '}'
		}
		s.pos++
		if s.expect(closer) {
			return nil
		}
		for {
			if c == '{' {
				if err := s.skip(depth + 1); err != nil {
					return err
				}
				if !s.expect(':') {
					return s.errf("want ':'")
				}
			}
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			if s.expect(closer) {
				return nil
			}
			if !s.expect(',') {
				return s.errf("want ',' or a closing bracket")
			}
		}
	case c == 'n':
		if s.literal("null") {
			return nil
		}
	case c == 't':
		if s.literal("true") {
			return nil
		}
	case c == 'f':
		if s.literal("false") {
			return nil
		}
	default:
		if _, ok := s.number(); ok {
			return nil
		}
	}
	return s.errf("want a JSON value")
}
