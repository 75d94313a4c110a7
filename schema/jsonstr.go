package schema

import (
	"unicode/utf8"
)

// AppendJSONString appends src as a JSON string exactly as encoding/json
// does with SetEscapeHTML(false), which is how every row-image format
// (docs/formats/row-json.md, mysql-row-json.md) and the Hugo profile
// escape strings: '"' and '\\' backslash-escaped; \b \f \n \r \t
// short-escaped; other bytes below 0x20 as \u00xx (lower-case hex); U+2028
// and U+2029 as \u2028 and \u2029; each byte of invalid UTF-8 as \ufffd;
// everything else (including DEL and <>&) as is. It is the one escaper of
// the code base: capture, the codec and api/hugo all call it.
func AppendJSONString[S ~[]byte | ~string](dst []byte, src S) []byte {
	dst = append(dst, '"')
	dst = AppendJSONEscaped(dst, src)
	return append(dst, '"')
}

// AppendJSONEscaped appends the inside of AppendJSONString: src escaped,
// without the quotes.
func AppendJSONEscaped[S ~[]byte | ~string](dst []byte, src S) []byte {
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(src); {
		b := src[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, src[start:i]...)
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
		// At most UTFMax bytes are converted, so the conversion stays on
		// the stack (the same trick encoding/json uses).
		n := min(len(src)-i, utf8.UTFMax)
		c, size := utf8.DecodeRuneInString(string(src[i : i+n]))
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, src[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, src[start:]...)
}

// invalidByte stands, inside an Avro string, for one byte of invalid
// UTF-8 that the row image wrote as the escape \ufffd. 0xFF never occurs
// in UTF-8, so AppendJSONString writes it back as \ufffd, while a real
// U+FFFD (written raw in the row image) stays U+FFFD: the round trip is
// byte-identical.
const invalidByte = 0xff
