package schema

import (
	"math/big"
)

// Decimal values are the Avro decimal logical type: the unscaled integer
// as big-endian two's complement bytes. The canonical text of a column
// with scale s is -?(0|[1-9][0-9]*)(\.[0-9]{s})? with exactly s fraction
// digits, and no "-" on zero.

// parseDecimal checks that text is the canonical form for (prec, scale)
// and appends the unscaled value's two's complement bytes to dst. ok is
// false (dst unchanged) when the text is not canonical or has more than
// prec digits.
func appendDecimalBytes(dst, text []byte, prec, scale int) ([]byte, bool) {
	s := text
	neg := false
	if len(s) > 0 && s[0] == '-' {
		neg, s = true, s[1:]
	}
	intLen := 0
	for intLen < len(s) && s[intLen] >= '0' && s[intLen] <= '9' {
		intLen++
	}
	if intLen == 0 || (intLen > 1 && s[0] == '0') {
		return dst, false
	}
	frac := s[intLen:]
	if scale == 0 {
		if len(frac) != 0 {
			return dst, false
		}
	} else {
		if len(frac) != scale+1 || frac[0] != '.' {
			return dst, false
		}
		for _, c := range frac[1:] {
			if c < '0' || c > '9' {
				return dst, false
			}
		}
		frac = frac[1:]
	}
	intDigits := intLen
	if s[0] == '0' {
		intDigits = 0
	}
	if intDigits+scale > prec {
		return dst, false
	}
	// Small values: int64 arithmetic.
	if intLen+len(frac) <= 18 {
		var v int64
		for _, c := range s[:intLen] {
			v = v*10 + int64(c-'0')
		}
		for _, c := range frac {
			v = v*10 + int64(c-'0')
		}
		if neg {
			if v == 0 {
				return dst, false // "-0.00" has no two's complement form
			}
			v = -v
		}
		return appendTwos64(dst, v), true
	}
	digitsBuf := make([]byte, 0, intLen+len(frac))
	digitsBuf = append(digitsBuf, s[:intLen]...)
	digitsBuf = append(digitsBuf, frac...)
	var b big.Int
	b.SetString(string(digitsBuf), 10)
	if neg {
		if b.Sign() == 0 {
			return dst, false
		}
		b.Neg(&b)
	}
	return appendTwosBig(dst, &b), true
}

// appendTwos64 appends v as minimal big-endian two's complement.
func appendTwos64(dst []byte, v int64) []byte {
	n := 8
	for n > 1 {
		top := byte(v >> (8 * (n - 1)))
		next := byte(v >> (8 * (n - 2)))
		if (top == 0 && next&0x80 == 0) || (top == 0xff && next&0x80 != 0) {
			n--
			continue
		}
		break
	}
	for i := n - 1; i >= 0; i-- {
		dst = append(dst, byte(v>>(8*i)))
	}
	return dst
}

// appendTwosBig appends b as minimal big-endian two's complement.
func appendTwosBig(dst []byte, b *big.Int) []byte {
	if b.Sign() >= 0 {
		mag := b.Bytes()
		if len(mag) == 0 || mag[0]&0x80 != 0 {
			dst = append(dst, 0)
		}
		return append(dst, mag...)
	}
	// -b - 1 in magnitude, inverted.
	var m big.Int
	m.Neg(b)
	m.Sub(&m, big.NewInt(1))
	mag := m.Bytes()
	if len(mag) == 0 || mag[0]&0x80 != 0 {
		dst = append(dst, 0xff)
	}
	for _, c := range mag {
		dst = append(dst, ^c)
	}
	return dst
}

// appendDecimalText appends the canonical text of two's complement bytes
// raw with the given scale.
func appendDecimalText(dst, raw []byte, scale int) []byte {
	var digitsBuf [24]byte
	var ds []byte
	neg := false
	if len(raw) <= 8 {
		var v int64
		if len(raw) > 0 && raw[0]&0x80 != 0 {
			v = -1
		}
		for _, c := range raw {
			v = v<<8 | int64(c)
		}
		if v < 0 {
			neg = true
		}
		u := uint64(v)
		if neg {
			u = uint64(-v)
		}
		ds = appendUint(digitsBuf[:0], u)
	} else {
		var b big.Int
		b.SetBytes(raw)
		if raw[0]&0x80 != 0 {
			neg = true
			var full big.Int
			full.Lsh(big.NewInt(1), uint(8*len(raw)))
			b.Sub(&full, &b) // magnitude
		}
		ds = b.Append(nil, 10)
	}
	if neg {
		dst = append(dst, '-')
	}
	if scale == 0 {
		return append(dst, ds...)
	}
	if len(ds) <= scale {
		dst = append(dst, '0', '.')
		for range scale - len(ds) {
			dst = append(dst, '0')
		}
		return append(dst, ds...)
	}
	dst = append(dst, ds[:len(ds)-scale]...)
	dst = append(dst, '.')
	return append(dst, ds[len(ds)-scale:]...)
}

func appendUint(dst []byte, u uint64) []byte {
	var buf [20]byte
	i := len(buf)
	for u >= 10 {
		i--
		buf[i] = byte('0' + u%10)
		u /= 10
	}
	i--
	buf[i] = byte('0' + u)
	return append(dst, buf[i:]...)
}
