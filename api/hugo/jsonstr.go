package hugo

import (
	"unicode/utf8"

	"github.com/cairnlog/cairn/schema"
)

// appendString appends src as a JSON string, escaped exactly as row
// images are (schema.AppendJSONString, docs/formats/row-json.md).
func appendString[S ~[]byte | ~string](dst []byte, src S) []byte {
	return schema.AppendJSONString(dst, src)
}

// appendEscaped appends the inside of appendString: src escaped, without
// the quotes.
func appendEscaped[S ~[]byte | ~string](dst []byte, src S) []byte {
	return schema.AppendJSONEscaped(dst, src)
}

// utf16Len is the length of s in UTF-16 code units (what .NET counts as
// string length) after JSON decoding, where each invalid UTF-8 byte has
// become U+FFFD.
func utf16Len(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			n++
			i++
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c >= 0x10000 {
			n += 2
		} else {
			n++
		}
		i += size
	}
	return n
}

// validText returns s with each byte of invalid UTF-8 replaced by U+FFFD, the
// text a JSON reader sees after appendString.
func validText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	out := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, s[i:i+size]...)
		}
		i += size
	}
	return string(out)
}
