package hugo

import "unicode/utf8"

const hexDigits = "0123456789abcdef"

// appendString appends src as a JSON string, escaped exactly as
// encoding/json escapes it with SetEscapeHTML(false) (and as row images are
// escaped, docs/formats/row-json.md): '"' and '\\' get a backslash; \b \f \n
// \r \t use their short escapes; other bytes below 0x20 become \u00xx; U+2028
// and U+2029 become \u2028 and \u2029; each byte of invalid UTF-8 becomes
// \ufffd; everything else is copied.
func appendString[S ~[]byte | ~string](dst []byte, src S) []byte {
	dst = append(dst, '"')
	dst = appendEscaped(dst, src)
	return append(dst, '"')
}

// appendEscaped appends the inside of appendString: src escaped, without the
// quotes.
func appendEscaped[S ~[]byte | ~string](dst []byte, src S) []byte {
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
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		// At most UTFMax bytes are converted, so the conversion stays on the
		// stack.
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
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, src[start:]...)
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
