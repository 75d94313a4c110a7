package mysql

import (
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/cairnlog/cairn/schema"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

// The canonical value of each column type is described in
// docs/formats/mysql-row-json.md. The inputs are what a BinlogSyncer
// configured with ParseTime=true, UseDecimal=false,
// RenderJSONAsMySQLText=true and TimestampStringLocation=time.UTC gives;
// a few other forms (time.Time, a decimal type) are accepted too.

// appendValue appends the canonical value of v, a non-nil value go-mysql
// decoded for column c.
func appendValue(dst []byte, c *ColumnInfo, v any) ([]byte, error) {
	switch c.Type {
	case gomysql.MYSQL_TYPE_TINY:
		return appendInteger(dst, v, 8, c.Unsigned)
	case gomysql.MYSQL_TYPE_SHORT:
		return appendInteger(dst, v, 16, c.Unsigned)
	case gomysql.MYSQL_TYPE_INT24:
		return appendInteger(dst, v, 24, c.Unsigned)
	case gomysql.MYSQL_TYPE_LONG:
		return appendInteger(dst, v, 32, c.Unsigned)
	case gomysql.MYSQL_TYPE_LONGLONG:
		return appendInteger(dst, v, 64, c.Unsigned)
	case gomysql.MYSQL_TYPE_YEAR:
		return appendYear(dst, v)
	case gomysql.MYSQL_TYPE_NEWDECIMAL:
		return appendDecimal(dst, v, int(c.Meta&0xff))
	case gomysql.MYSQL_TYPE_FLOAT:
		return appendFloat(dst, v, 32)
	case gomysql.MYSQL_TYPE_DOUBLE:
		return appendFloat(dst, v, 64)
	case gomysql.MYSQL_TYPE_BIT:
		return appendBit(dst, v, int(c.Meta>>8)*8+int(c.Meta&0xff))
	case gomysql.MYSQL_TYPE_ENUM:
		return appendEnum(dst, v, c.Enum)
	case gomysql.MYSQL_TYPE_SET:
		return appendSet(dst, v, c.Set)
	case gomysql.MYSQL_TYPE_STRING:
		if c.Binary {
			return appendBytes(dst, v, stringColumnLength(c.Meta))
		}
		return appendText(dst, v)
	case gomysql.MYSQL_TYPE_VARCHAR, gomysql.MYSQL_TYPE_VAR_STRING, gomysql.MYSQL_TYPE_BLOB,
		gomysql.MYSQL_TYPE_TINY_BLOB, gomysql.MYSQL_TYPE_MEDIUM_BLOB, gomysql.MYSQL_TYPE_LONG_BLOB:
		if c.Binary {
			return appendBytes(dst, v, 0)
		}
		return appendText(dst, v)
	case gomysql.MYSQL_TYPE_GEOMETRY:
		return appendBytes(dst, v, 0)
	case gomysql.MYSQL_TYPE_DATE, gomysql.MYSQL_TYPE_NEWDATE:
		return appendDate(dst, v)
	case gomysql.MYSQL_TYPE_TIME:
		return appendTime(dst, v, 0)
	case gomysql.MYSQL_TYPE_TIME2:
		fsp, err := columnFsp(c.Meta)
		if err != nil {
			return dst, err
		}
		return appendTime(dst, v, fsp)
	case gomysql.MYSQL_TYPE_DATETIME, gomysql.MYSQL_TYPE_TIMESTAMP:
		return appendDatetime(dst, v, 0)
	case gomysql.MYSQL_TYPE_DATETIME2, gomysql.MYSQL_TYPE_TIMESTAMP2:
		fsp, err := columnFsp(c.Meta)
		if err != nil {
			return dst, err
		}
		return appendDatetime(dst, v, fsp)
	case gomysql.MYSQL_TYPE_JSON:
		return appendJSONDocument(dst, v)
	}
	return appendOther(dst, c.Type, v)
}

func goTypeError(v any) error {
	return fmt.Errorf("unexpected go-mysql value of Go type %T: %w", v, ErrRowValue)
}

// intBits returns an integer v as its 64-bit two's complement pattern
// (sign-extended for signed Go types) and whether it is negative.
func intBits(v any) (bits uint64, negative, ok bool) {
	var i int64
	switch x := v.(type) {
	case int8:
		i = int64(x)
	case int16:
		i = int64(x)
	case int32:
		i = int64(x)
	case int64:
		i = x
	case int:
		i = int64(x)
	case uint8:
		return uint64(x), false, true
	case uint16:
		return uint64(x), false, true
	case uint32:
		return uint64(x), false, true
	case uint64:
		return x, false, true
	case uint:
		return uint64(x), false, true
	default:
		return 0, false, false
	}
	return uint64(i), i < 0, true
}

// appendInteger appends an integer of a width-bit column (8, 16, 24, 32
// or 64). go-mysql gives signed or unsigned Go integers depending on the
// signedness it read from the table map; either way the value must fit
// the width, and is read as the column's signedness: a negative value in
// an UNSIGNED column is the raw bit pattern (int8(-1) in TINYINT UNSIGNED
// is 255), and an unsigned value above the signed maximum in a signed
// column is the raw pattern too (uint8(255) in TINYINT is -1).
func appendInteger(dst []byte, v any, width uint, unsigned bool) ([]byte, error) {
	bits, negative, ok := intBits(v)
	if !ok {
		return dst, goTypeError(v)
	}
	mask := ^uint64(0) >> (64 - width)
	half := uint64(1) << (width - 1) // 2^(width-1): the magnitude of the signed minimum
	if negative {
		if width < 64 && -bits > half {
			return dst, fmt.Errorf("integer out of range for %d bits: %w", width, ErrRowValue)
		}
		if unsigned {
			return strconv.AppendUint(dst, bits&mask, 10), nil
		}
		return strconv.AppendInt(dst, int64(bits), 10), nil
	}
	if bits > mask {
		return dst, fmt.Errorf("integer out of range for %d bits: %w", width, ErrRowValue)
	}
	if !unsigned && bits >= half {
		shift := 64 - width
		return strconv.AppendInt(dst, int64(bits<<shift)>>shift, 10), nil
	}
	if unsigned {
		return strconv.AppendUint(dst, bits, 10), nil
	}
	return strconv.AppendInt(dst, int64(bits), 10), nil
}

// appendYear appends a YEAR: go-mysql gives an int, 0 or 1901..2155.
func appendYear(dst []byte, v any) ([]byte, error) {
	bits, negative, ok := intBits(v)
	if !ok {
		return dst, goTypeError(v)
	}
	if negative || bits > 9999 {
		return dst, fmt.Errorf("year out of range: %w", ErrRowValue)
	}
	return strconv.AppendUint(dst, bits, 10), nil
}

// appendBit appends a BIT(width) value as its unsigned number. go-mysql
// gives an int64, negative for BIT(64) values with the top bit set.
func appendBit(dst []byte, v any, width int) ([]byte, error) {
	if width < 1 || width > 64 {
		return dst, fmt.Errorf("BIT column of %d bits in the table map: %w", width, ErrRowValue)
	}
	bits, negative, ok := intBits(v)
	if !ok {
		return dst, goTypeError(v)
	}
	if (negative && width < 64) || bits>>(width-1)>>1 != 0 {
		return dst, fmt.Errorf("bit value out of range for %d bits: %w", width, ErrRowValue)
	}
	return strconv.AppendUint(dst, bits, 10), nil
}

// appendDecimal appends a DECIMAL with scale digits after the point as a
// JSON string. go-mysql (UseDecimal=false) gives the text MySQL prints,
// with exactly scale fraction digits: "12.50", "-0.0100000000", "7". A
// shorter fraction is padded with zeros; a decimal type (UseDecimal=true)
// is printed with StringFixed(scale).
func appendDecimal(dst []byte, v any, scale int) ([]byte, error) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case []byte:
		s = string(x)
	case interface{ StringFixed(places int32) string }:
		s = x.StringFixed(int32(scale))
	default:
		return dst, goTypeError(v)
	}
	sign, intPart, frac, ok := splitDecimal(s)
	if !ok || len(frac) > scale {
		return dst, fmt.Errorf("malformed decimal text for scale %d: %w", scale, ErrRowValue)
	}
	dst = append(dst, '"')
	dst = append(dst, sign...)
	dst = append(dst, intPart...)
	if scale > 0 {
		dst = append(dst, '.')
		dst = append(dst, frac...)
		for range scale - len(frac) {
			dst = append(dst, '0')
		}
	}
	return append(dst, '"'), nil
}

// splitDecimal splits -?digits(.digits)? into its sign, integer digits
// and fraction digits.
func splitDecimal(s string) (sign, intPart, frac string, ok bool) {
	if len(s) > 0 && s[0] == '-' {
		sign, s = "-", s[1:]
	}
	n := leadingDigits(s)
	if n == 0 {
		return "", "", "", false
	}
	intPart, s = s[:n], s[n:]
	if s == "" {
		return sign, intPart, "", true
	}
	if s[0] != '.' {
		return "", "", "", false
	}
	frac = s[1:]
	if frac == "" || leadingDigits(frac) != len(frac) {
		return "", "", "", false
	}
	return sign, intPart, frac, true
}

// leadingDigits counts the ASCII digits at the start of s.
func leadingDigits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// appendFloat appends a FLOAT (bitSize 32) or DOUBLE (64) as the shortest
// number that reads back to the same float32 or float64 ('g' format, so
// 1e+100 and 1e-07 keep their exponents; both are JSON numbers). MySQL
// cannot store NaN or infinities; should one arrive it is written as the
// string "NaN", "Infinity" or "-Infinity".
func appendFloat(dst []byte, v any, bitSize int) ([]byte, error) {
	var f float64
	switch x := v.(type) {
	case float32:
		f = float64(x)
	case float64:
		f = x
		if bitSize == 32 && !math.IsNaN(f) && float64(float32(f)) != f {
			return dst, fmt.Errorf("float64 value that is not a float32 for a FLOAT column: %w", ErrRowValue)
		}
	default:
		return dst, goTypeError(v)
	}
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...), nil
	case math.IsInf(f, 1):
		return append(dst, `"Infinity"`...), nil
	case math.IsInf(f, -1):
		return append(dst, `"-Infinity"`...), nil
	}
	return strconv.AppendFloat(dst, f, 'g', -1, bitSize), nil
}

// appendEnum appends the member name at a 1-based ENUM index; index 0 (the
// value MySQL stores for an invalid member outside strict mode) is "".
func appendEnum(dst []byte, v any, members []string) ([]byte, error) {
	bits, negative, ok := intBits(v)
	if !ok {
		return dst, goTypeError(v)
	}
	if negative || bits > uint64(len(members)) {
		return dst, fmt.Errorf("enum index out of range for %d members: %w", len(members), ErrRowValue)
	}
	if bits == 0 {
		return append(dst, `""`...), nil
	}
	return schema.AppendJSONString(dst, members[bits-1]), nil
}

// appendSet appends the names of the members whose bits are set in a SET
// bitmap, in definition order, joined by ','. go-mysql gives an int64,
// negative when the 64th member is set.
func appendSet(dst []byte, v any, members []string) ([]byte, error) {
	bits, _, ok := intBits(v)
	if !ok {
		return dst, goTypeError(v)
	}
	if len(members) < 64 && bits>>len(members) != 0 {
		return dst, fmt.Errorf("set bits out of range for %d members: %w", len(members), ErrRowValue)
	}
	// Member names cannot contain ',', so joining and escaping commute:
	// escape the joined text in one string.
	joined := make([]byte, 0, 64)
	for i, m := range members {
		if bits&(1<<i) == 0 {
			continue
		}
		if len(joined) > 0 {
			joined = append(joined, ',')
		}
		joined = append(joined, m...)
	}
	return schema.AppendJSONString(dst, joined), nil
}

// appendText appends a character string of a non-binary character set as
// a JSON string. go-mysql gives CHAR and VARCHAR as string, TEXT as
// []byte; CHAR has lost its trailing spaces, as MySQL's SELECT does.
func appendText(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return schema.AppendJSONString(dst, x), nil
	case []byte:
		return schema.AppendJSONString(dst, x), nil
	}
	return dst, goTypeError(v)
}

// appendBytes appends a binary string as the JSON string "\\x" followed by
// lower-case hex. A BINARY(n) column (length > 0) loses its trailing zero
// bytes in the binlog; they are put back, so the value is the n bytes the
// column holds.
func appendBytes(dst []byte, v any, length int) ([]byte, error) {
	var n int
	switch x := v.(type) {
	case string:
		n = len(x)
		dst = append(dst, `"\\x`...)
		dst = hexAppendString(dst, x)
	case []byte:
		n = len(x)
		dst = append(dst, `"\\x`...)
		dst = hex.AppendEncode(dst, x)
	default:
		return dst, goTypeError(v)
	}
	if length > 0 && n > length {
		return dst, fmt.Errorf("%d bytes for a BINARY(%d) column: %w", n, length, ErrRowValue)
	}
	for ; n < length; n++ {
		dst = append(dst, '0', '0')
	}
	return append(dst, '"'), nil
}

// hexAppendString appends s in lower-case hex.
func hexAppendString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	for i := 0; i < len(s); i++ {
		dst = append(dst, hexDigits[s[i]>>4], hexDigits[s[i]&0xf])
	}
	return dst
}

// appendJSONDocument appends a MySQL JSON column's value as a JSON string
// of its text. go-mysql (RenderJSONAsMySQLText) renders the binary
// document as compact, type-faithful text in stored key order, and gives
// an empty document (which MySQL reads as the JSON null literal) as an
// empty []byte, written "null". MariaDB's JSON is a LONGTEXT and never
// reaches this function (it is a text BLOB).
func appendJSONDocument(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		if x == "" {
			return append(dst, `"null"`...), nil
		}
		return schema.AppendJSONString(dst, x), nil
	case []byte:
		if len(x) == 0 {
			return append(dst, `"null"`...), nil
		}
		return schema.AppendJSONString(dst, x), nil
	case *replication.JsonDiff:
		return dst, fmt.Errorf("partial JSON update (binlog_row_value_options=PARTIAL_JSON); row images need whole documents: %w", ErrRowValue)
	}
	return dst, goTypeError(v)
}

// appendOther appends a value of a type with no canonical rule as
// {"$type":"<type name>","text":"<text>"}: bytes and strings as "\\x" and
// hex (their encoding is unknown), integers in decimal, floats as for
// DOUBLE.
func appendOther(dst []byte, typ byte, v any) ([]byte, error) {
	n := len(dst)
	dst = append(dst, `{"$type":`...)
	dst = schema.AppendJSONString(dst, typeName(typ))
	dst = append(dst, `,"text":`...)
	var err error
	switch x := v.(type) {
	case string, []byte:
		dst, err = appendBytes(dst, x, 0)
	case float32:
		dst = append(dst, '"')
		dst = strconv.AppendFloat(dst, float64(x), 'g', -1, 32)
		dst = append(dst, '"')
	case float64:
		dst = append(dst, '"')
		dst = strconv.AppendFloat(dst, x, 'g', -1, 64)
		dst = append(dst, '"')
	default:
		bits, negative, ok := intBits(v)
		if !ok {
			return dst[:n], goTypeError(v)
		}
		dst = append(dst, '"')
		if negative {
			dst = strconv.AppendInt(dst, int64(bits), 10)
		} else {
			dst = strconv.AppendUint(dst, bits, 10)
		}
		dst = append(dst, '"')
	}
	if err != nil {
		return dst[:n], err
	}
	return append(dst, '}'), nil
}

// columnFsp is the fractional seconds precision of a TIME2, DATETIME2 or
// TIMESTAMP2 column: its metadata.
func columnFsp(meta uint16) (int, error) {
	if meta > 6 {
		return 0, fmt.Errorf("fractional seconds precision %d in the table map: %w", meta, ErrRowValue)
	}
	return int(meta), nil
}

// temporalText returns the text of a temporal value go-mysql gave as a
// string.
func temporalText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case []byte:
		return string(x), true
	}
	return "", false
}

// appendDate appends a DATE, "YYYY-MM-DD" as go-mysql gives it (zero
// parts, as in 0000-00-00, included).
func appendDate(dst []byte, v any) ([]byte, error) {
	s, ok := temporalText(v)
	if !ok {
		return dst, goTypeError(v)
	}
	if !isDate(s) {
		return dst, fmt.Errorf("malformed date text: %w", ErrRowValue)
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"'), nil
}

// isDate reports whether s is dddd-dd-dd.
func isDate(s string) bool {
	return len(s) == 10 && leadingDigits(s[:4]) == 4 && s[4] == '-' &&
		leadingDigits(s[5:7]) == 2 && s[7] == '-' && leadingDigits(s[8:]) == 2
}

// isClock reports whether s is dd:dd:dd.
func isClock(s string) bool {
	return len(s) == 8 && leadingDigits(s[:2]) == 2 && s[2] == ':' &&
		leadingDigits(s[3:5]) == 2 && s[5] == ':' && leadingDigits(s[6:]) == 2
}

// appendFraction appends the fraction digits frac (without the point)
// normalised to fsp digits: padded with zeros, or cut where only zeros
// are cut. fsp 0 writes no point.
func appendFraction(dst []byte, frac string, fsp int) ([]byte, bool) {
	if len(frac) > fsp {
		for i := fsp; i < len(frac); i++ {
			if frac[i] != '0' {
				return dst, false
			}
		}
		frac = frac[:fsp]
	}
	if fsp == 0 {
		return dst, true
	}
	dst = append(dst, '.')
	dst = append(dst, frac...)
	for range fsp - len(frac) {
		dst = append(dst, '0')
	}
	return dst, true
}

// splitFraction splits s at its last '.' into the whole part and the
// fraction digits; ok is false for a point without 1 to 9 digits after it.
func splitFraction(s string) (whole, frac string, ok bool) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '.' {
			frac = s[i+1:]
			return s[:i], frac, frac != "" && len(frac) <= 9 && leadingDigits(frac) == len(frac)
		}
		if s[i] < '0' || s[i] > '9' {
			break
		}
	}
	return s, "", true
}

// appendTime appends a TIME as "[-]HH:MM:SS" with exactly fsp fraction
// digits. go-mysql writes hours with at least two digits (up to 838) and
// leaves out a zero fraction ("12:00:00" for TIME(2) 12:00:00.00).
func appendTime(dst []byte, v any, fsp int) ([]byte, error) {
	s, ok := temporalText(v)
	if !ok {
		return dst, goTypeError(v)
	}
	whole, frac, ok := splitFraction(s)
	sign := ""
	if ok && len(whole) > 0 && whole[0] == '-' {
		sign, whole = "-", whole[1:]
	}
	hours := leadingDigits(whole)
	if !ok || hours < 2 || hours > 3 || !isClock(whole[hours-2:]) {
		return dst, fmt.Errorf("malformed time text: %w", ErrRowValue)
	}
	n := len(dst)
	dst = append(dst, '"')
	dst = append(dst, sign...)
	dst = append(dst, whole...)
	if dst, ok = appendFraction(dst, frac, fsp); !ok {
		return dst[:n], fmt.Errorf("time with more than %d fraction digits: %w", fsp, ErrRowValue)
	}
	return append(dst, '"'), nil
}

// appendDatetime appends a DATETIME or TIMESTAMP as "YYYY-MM-DD HH:MM:SS"
// with exactly fsp fraction digits. go-mysql with ParseTime=true (what
// capture uses: it saves a fmt.Sprintf per value) gives a time.Time,
// written here in UTC, for values from 1970 on, and text for earlier and
// zero values ("0000-00-00 00:00:00[.000…]"), as ParseTime=false and the
// snapshot path do for all of them.
func appendDatetime(dst []byte, v any, fsp int) ([]byte, error) {
	if t, ok := v.(time.Time); ok {
		return appendTimeValue(dst, t, fsp)
	}
	s, ok := temporalText(v)
	if !ok {
		return dst, goTypeError(v)
	}
	whole, frac, ok := splitFraction(s)
	if !ok || len(whole) != 19 || !isDate(whole[:10]) || whole[10] != ' ' || !isClock(whole[11:]) {
		return dst, fmt.Errorf("malformed datetime text: %w", ErrRowValue)
	}
	n := len(dst)
	dst = append(dst, '"')
	dst = append(dst, whole...)
	if dst, ok = appendFraction(dst, frac, fsp); !ok {
		return dst[:n], fmt.Errorf("datetime with more than %d fraction digits: %w", fsp, ErrRowValue)
	}
	return append(dst, '"'), nil
}

// appendTimeValue appends t, in UTC, as a DATETIME with fsp digits.
func appendTimeValue(dst []byte, t time.Time, fsp int) ([]byte, error) {
	t = t.UTC()
	if t.Year() < 0 || t.Year() > 9999 {
		return dst, fmt.Errorf("datetime year out of range: %w", ErrRowValue)
	}
	n := len(dst)
	dst = append(dst, '"')
	dst = t.AppendFormat(dst, "2006-01-02 15:04:05")
	var digits [9]byte
	for i, ns := 8, t.Nanosecond(); i >= 0; i, ns = i-1, ns/10 {
		digits[i] = byte('0' + ns%10)
	}
	var ok bool
	if dst, ok = appendFraction(dst, string(digits[:]), fsp); !ok {
		return dst[:n], fmt.Errorf("datetime with more than %d fraction digits: %w", fsp, ErrRowValue)
	}
	return append(dst, '"'), nil
}
