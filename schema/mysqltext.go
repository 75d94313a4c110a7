package schema

import "strconv"

// MySQL/MariaDB text forms, as capture/mysql writes them
// (docs/formats/mysql-row-json.md). As for PostgreSQL, parses are loose
// and the encoder keeps a typed value only when it renders back to the
// same bytes; anything else (zero and partial dates, negative or long
// TIME values) goes to the column's text branch.

// appendMySQLDate appends YYYY-MM-DD (years 0..9999).
func appendMySQLDate(dst []byte, days int64) []byte {
	y, m, d := civilFromDays(days)
	dst = appendPad(dst, y, 4)
	dst = append(dst, '-')
	dst = appendPad(dst, int64(m), 2)
	dst = append(dst, '-')
	return appendPad(dst, int64(d), 2)
}

// parseMySQLDate parses a valid calendar date YYYY-MM-DD at s[0:], and
// returns the index after it.
func parseMySQLDate(s []byte) (int64, int, bool) {
	y, m, d, j, ok := parseYMD(s, 0, 4)
	if !ok || j != 10 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, 0, false
	}
	return daysFromCivil(y, m, d), j, true
}

// appendMySQLDatetime appends YYYY-MM-DD HH:MM:SS and fsp fraction digits.
func appendMySQLDatetime(dst []byte, us int64, fsp int) []byte {
	days, tod := splitMicros(us)
	dst = appendMySQLDate(dst, days)
	dst = append(dst, ' ')
	dst = appendClock(dst, tod)
	return appendFixedFraction(dst, tod%microsPerSecond, fsp)
}

func parseMySQLDatetime(s []byte) (int64, bool) {
	days, j, ok := parseMySQLDate(s)
	if !ok || j >= len(s) || s[j] != ' ' {
		return 0, false
	}
	tod, k, ok := parseHMS(s, j+1, 2)
	if !ok || tod >= microsPerDay {
		return 0, false
	}
	f, k, _, ok := fraction(s, k)
	if !ok || k != len(s) {
		return 0, false
	}
	us, ok := joinMicros(days, tod+f)
	return us, ok
}

// appendMySQLTime appends a time of day as HH:MM:SS and fsp digits.
func appendMySQLTime(dst []byte, us int64, fsp int) []byte {
	dst = appendClock(dst, us)
	return appendFixedFraction(dst, us%microsPerSecond, fsp)
}

// parseMySQLTime parses a non-negative TIME below 24:00:00; others are
// not times of day and stay text.
func parseMySQLTime(s []byte) (int64, bool) {
	us, j, ok := parseHMS(s, 0, 2)
	if !ok {
		return 0, false
	}
	f, j, _, ok := fraction(s, j)
	if !ok || j != len(s) || us+f >= microsPerDay {
		return 0, false
	}
	return us + f, true
}

// appendMySQLFloat appends f as capture/mysql does: Go's shortest 'g'
// form for the column's float width.
func appendMySQLFloat(dst []byte, f float64, bits int) []byte {
	return strconv.AppendFloat(dst, f, 'g', -1, bits)
}
