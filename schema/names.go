package schema

import "strings"

// Avro names must match [A-Za-z_][A-Za-z0-9_]*. Source names (columns,
// tables, schemas, sources) are mapped to Avro names injectively, so the
// original is recovered from the Avro name alone (it is part of the
// schema's canonical form, and so of its fingerprint):
//
//   - a valid Avro name that does not start with "_x_" is kept as is;
//   - anything else becomes "_x_" followed by the name with every byte
//     outside [A-Za-z0-9] written as '_' and two lower-case hex digits:
//     "a-b" -> "_x_a_2db", "größe" -> "_x_gr_c3_b6_c3_9fe", "1st" -> "_x_1st".

const escapedPrefix = "_x_"

// isAvroName reports whether s is a valid Avro name (one component).
func isAvroName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// avroName maps a source name to an Avro name (see above).
func avroName(s string) string {
	if isAvroName(s) && !strings.HasPrefix(s, escapedPrefix) {
		return s
	}
	const hex = "0123456789abcdef"
	b := make([]byte, 0, len(escapedPrefix)+len(s)*2)
	b = append(b, escapedPrefix...)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b = append(b, c)
			continue
		}
		b = append(b, '_', hex[c>>4], hex[c&0xf])
	}
	return string(b)
}

// sourceName inverts avroName; ok is false for a name avroName cannot
// produce.
func sourceName(n string) (string, bool) {
	if !strings.HasPrefix(n, escapedPrefix) {
		return n, isAvroName(n)
	}
	b := make([]byte, 0, len(n))
	for i := len(escapedPrefix); i < len(n); i++ {
		c := n[i]
		if c != '_' {
			b = append(b, c)
			continue
		}
		if i+2 >= len(n) {
			return "", false
		}
		hi, ok1 := unhex(n[i+1])
		lo, ok2 := unhex(n[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		b = append(b, hi<<4|lo)
		i += 2
	}
	return string(b), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
