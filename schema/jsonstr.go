package schema

import (
	"unicode/utf8"
)

// appendJSONString appends s as a JSON string exactly as the row-image
// formats escape strings (Go's encoding/json with SetEscapeHTML(false)):
// '"' and '\\' backslash-escaped; \b \f \n \r \t short-escaped; other
// bytes below 0x20 as \u00xx (lower-case hex); U+2028 and U+2029 as
// \u2028 and \u2029; each byte of invalid UTF-8 as \ufffd; everything else
// as is.
func appendJSONString[S ~[]byte | ~string](dst []byte, s S) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xf])
			}
			i++
			start = i
			continue
		}
		var r rune
		var size int
		switch v := any(s).(type) {
		case string:
			r, size = utf8.DecodeRuneInString(v[i:])
		case []byte:
			r, size = utf8.DecodeRune(v[i:])
		default:
			r, size = utf8.DecodeRuneInString(string(s[i:]))
		}
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// invalidByte stands, inside an Avro string, for one byte of invalid
// UTF-8 that the row image wrote as the escape \ufffd. 0xFF never occurs
// in UTF-8, so appendJSONString writes it back as \ufffd, while a real
// U+FFFD (written raw in the row image) stays U+FFFD: the round trip is
// byte-identical.
const invalidByte = 0xff
