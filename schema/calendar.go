package schema

import "math"

// Proleptic Gregorian calendar arithmetic on days since 1970-01-01, with
// astronomical years (year 0 is 1 BC), as both PostgreSQL and MySQL use.

const (
	microsPerSecond = int64(1_000_000)
	microsPerMinute = 60 * microsPerSecond
	microsPerHour   = 60 * microsPerMinute
	microsPerDay    = 24 * microsPerHour
	// maxDays bounds |days| so days*microsPerDay cannot overflow.
	maxDays = math.MaxInt64 / microsPerDay
)

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// daysFromCivil returns the days since 1970-01-01 of y-m-d.
func daysFromCivil(y int64, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mm := int64(m)
	if m > 2 {
		mm -= 3
	} else {
		mm += 9
	}
	doy := (153*mm+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y int64, m, d int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// daysIn returns the number of days of month m of year y.
func daysIn(y int64, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// splitMicros splits micros since the epoch into days and micros of day.
func splitMicros(us int64) (days, tod int64) {
	days = floorDiv(us, microsPerDay)
	return days, us - days*microsPerDay
}

// joinMicros is days*microsPerDay + tod, reporting overflow.
func joinMicros(days, tod int64) (int64, bool) {
	if days > maxDays || days < -maxDays-1 {
		return 0, false
	}
	base := days * microsPerDay
	if (tod > 0 && base > math.MaxInt64-tod) || (tod < 0 && base < math.MinInt64-tod) {
		return 0, false
	}
	return base + tod, true
}

// appendPad appends v in decimal, zero-padded to at least width digits.
func appendPad(dst []byte, v int64, width int) []byte {
	var buf [20]byte
	i := len(buf)
	u := uint64(v)
	if v < 0 {
		u = uint64(-v)
	}
	for u >= 10 {
		i--
		buf[i] = byte('0' + u%10)
		u /= 10
	}
	i--
	buf[i] = byte('0' + u)
	for n := len(buf) - i; n < width; n++ {
		dst = append(dst, '0')
	}
	return append(dst, buf[i:]...)
}

// appendClock appends HH:MM:SS for micros of day tod (hours may exceed 24).
func appendClock(dst []byte, tod int64) []byte {
	sec := tod / microsPerSecond
	dst = appendPad(dst, sec/3600, 2)
	dst = append(dst, ':')
	dst = appendPad(dst, sec/60%60, 2)
	dst = append(dst, ':')
	return appendPad(dst, sec%60, 2)
}

// appendTrimmedFraction appends ".ffffff" of frac micros without
// trailing zeros, nothing when frac is 0 (PostgreSQL's AppendSeconds).
func appendTrimmedFraction(dst []byte, frac int64) []byte {
	if frac == 0 {
		return dst
	}
	digits := 6
	for frac%10 == 0 {
		frac /= 10
		digits--
	}
	dst = append(dst, '.')
	return appendPad(dst, frac, digits)
}

// appendFixedFraction appends "." and exactly fsp digits of frac micros
// (nothing for fsp 0).
func appendFixedFraction(dst []byte, frac int64, fsp int) []byte {
	if fsp == 0 {
		return dst
	}
	for range 6 - fsp {
		frac /= 10
	}
	dst = append(dst, '.')
	return appendPad(dst, frac, fsp)
}

// digits parses an unsigned decimal run of 1..18 digits at s[i:], returns
// the value and the index after it.
func digits(s []byte, i int) (v int64, j int, ok bool) {
	j = i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' && j-i < 18 {
		v = v*10 + int64(s[j]-'0')
		j++
	}
	return v, j, j > i
}

// fraction parses ".ddd" (1..6 digits; more than 6 fail) at s[i:] as
// micros; no point gives 0.
func fraction(s []byte, i int) (us int64, j int, n int, ok bool) {
	if i >= len(s) || s[i] != '.' {
		return 0, i, 0, true
	}
	j = i + 1
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		if n == 6 {
			return 0, j, n, false
		}
		us = us*10 + int64(s[j]-'0')
		n++
		j++
	}
	if n == 0 {
		return 0, j, 0, false
	}
	for k := n; k < 6; k++ {
		us *= 10
	}
	return us, j, n, true
}

// parseYMD parses Y+-MM-DD at s[i:] (at least minYear digits of year).
func parseYMD(s []byte, i, minYear int) (y int64, m, d int, j int, ok bool) {
	y, j, ok = digits(s, i)
	if !ok || j-i < minYear || j >= len(s) || s[j] != '-' {
		return 0, 0, 0, 0, false
	}
	mm, k, ok := digits(s, j+1)
	if !ok || k-j-1 != 2 || k >= len(s) || s[k] != '-' {
		return 0, 0, 0, 0, false
	}
	dd, l, ok := digits(s, k+1)
	if !ok || l-k-1 != 2 {
		return 0, 0, 0, 0, false
	}
	return y, int(mm), int(dd), l, true
}

// parseHMS parses H+:MM:SS at s[i:] to micros (no fraction), hours 2..maxH digits.
func parseHMS(s []byte, i, maxH int) (us int64, j int, ok bool) {
	h, j, ok := digits(s, i)
	if !ok || j-i < 2 || j-i > maxH || j >= len(s) || s[j] != ':' {
		return 0, 0, false
	}
	mi, k, ok := digits(s, j+1)
	if !ok || k-j-1 != 2 || k >= len(s) || s[k] != ':' || mi > 59 {
		return 0, 0, false
	}
	se, l, ok := digits(s, k+1)
	if !ok || l-k-1 != 2 || se > 59 {
		return 0, 0, false
	}
	return h*microsPerHour + mi*microsPerMinute + se*microsPerSecond, l, true
}
