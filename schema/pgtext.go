package schema

import (
	"math"
	"math/big"
	"strconv"
)

// PostgreSQL text forms, as pgoutput prints them under Cairn's pinned
// session settings (DateStyle ISO, TimeZone UTC, IntervalStyle postgres,
// extra_float_digits 1). Each parse is loose; the encoder renders the
// parsed value again and keeps it only when the bytes are identical.

// Sentinels for PostgreSQL's infinite dates and timestamps. They lie
// outside the range of finite values PostgreSQL accepts (for timestamps,
// finite values at or past MaxInt64 micros are refused by the encoder).
const (
	pgDateInfinity    = math.MaxInt32
	pgDateNegInfinity = math.MinInt32
	pgTSInfinity      = math.MaxInt64
	pgTSNegInfinity   = math.MinInt64
	// PostgreSQL 17 infinite intervals (its own internal representation).
	pgIntervalInfMonths = math.MaxInt32
	pgIntervalInfDays   = math.MaxInt32
	pgIntervalInfMicros = math.MaxInt64
)

// appendPGDate appends a date (days since 1970-01-01): YYYY-MM-DD with at
// least four year digits and " BC" for years <= 0.
func appendPGDate(dst []byte, days int64) []byte {
	switch days {
	case pgDateInfinity:
		return append(dst, "infinity"...)
	case pgDateNegInfinity:
		return append(dst, "-infinity"...)
	}
	y, m, d := civilFromDays(days)
	dst = appendPGYMD(dst, y, m, d)
	if y <= 0 {
		dst = append(dst, " BC"...)
	}
	return dst
}

func appendPGYMD(dst []byte, y int64, m, d int) []byte {
	disp := y
	if y <= 0 {
		disp = 1 - y
	}
	dst = appendPad(dst, disp, 4)
	dst = append(dst, '-')
	dst = appendPad(dst, int64(m), 2)
	dst = append(dst, '-')
	return appendPad(dst, int64(d), 2)
}

// parsePGYMD parses Y-MM-DD and an optional " BC" suffix (in s[i:] or
// after the rest the caller parses); returns the astronomical year.
func parsePGDate(s []byte) (int64, bool) {
	switch string(s) {
	case "infinity":
		return pgDateInfinity, true
	case "-infinity":
		return pgDateNegInfinity, true
	}
	y, m, d, j, ok := parseYMD(s, 0, 4)
	if !ok {
		return 0, false
	}
	if j < len(s) {
		if string(s[j:]) != " BC" {
			return 0, false
		}
		y = 1 - y
	}
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, false
	}
	days := daysFromCivil(y, m, d)
	if days <= pgDateNegInfinity || days >= pgDateInfinity {
		return 0, false
	}
	return days, true
}

// appendPGTime appends a time of day (micros): HH:MM:SS[.ffffff], the
// fraction without trailing zeros.
func appendPGTime(dst []byte, us int64) []byte {
	dst = appendClock(dst, us)
	return appendTrimmedFraction(dst, us%microsPerSecond)
}

// parsePGTime parses HH:MM:SS[.f] at s[i:]; returns micros and the end.
func parsePGTime(s []byte, i int) (int64, int, bool) {
	us, j, ok := parseHMS(s, i, 2)
	if !ok {
		return 0, 0, false
	}
	f, j, _, ok := fraction(s, j)
	if !ok || us+f > microsPerDay {
		return 0, 0, false
	}
	return us + f, j, true
}

// appendPGOffset appends a UTC offset in seconds east: +HH, +HH:MM or
// +HH:MM:SS (PostgreSQL's EncodeTimezone).
func appendPGOffset(dst []byte, east int64) []byte {
	if east >= 0 {
		dst = append(dst, '+')
	} else {
		dst = append(dst, '-')
		east = -east
	}
	h, m, sec := east/3600, east/60%60, east%60
	dst = appendPad(dst, h, 2)
	if sec != 0 {
		dst = append(dst, ':')
		dst = appendPad(dst, m, 2)
		dst = append(dst, ':')
		return appendPad(dst, sec, 2)
	}
	if m != 0 {
		dst = append(dst, ':')
		dst = appendPad(dst, m, 2)
	}
	return dst
}

// parsePGOffset parses ±HH[:MM[:SS]] at s[i:] as seconds east.
func parsePGOffset(s []byte, i int) (int64, int, bool) {
	if i >= len(s) || (s[i] != '+' && s[i] != '-') {
		return 0, 0, false
	}
	neg := s[i] == '-'
	var parts [3]int64
	j := i + 1
	for n := range 3 {
		v, k, ok := digits(s, j)
		if !ok || k-j != 2 {
			return 0, 0, false
		}
		parts[n], j = v, k
		if j >= len(s) || s[j] != ':' || n == 2 {
			break
		}
		j++
	}
	east := parts[0]*3600 + parts[1]*60 + parts[2]
	if neg {
		east = -east
	}
	return east, j, true
}

// appendPGTimestamp appends a timestamp (micros since the epoch), with
// "+00" after the time when tz is set (timestamptz in UTC).
func appendPGTimestamp(dst []byte, us int64, tz bool) []byte {
	switch us {
	case pgTSInfinity:
		return append(dst, "infinity"...)
	case pgTSNegInfinity:
		return append(dst, "-infinity"...)
	}
	days, tod := splitMicros(us)
	y, m, d := civilFromDays(days)
	dst = appendPGYMD(dst, y, m, d)
	dst = append(dst, ' ')
	dst = appendPGTime(dst, tod)
	if tz {
		dst = append(dst, "+00"...)
	}
	if y <= 0 {
		dst = append(dst, " BC"...)
	}
	return dst
}

// parsePGTimestamp parses a timestamp (tz: with a "+00" offset; any other
// offset fails, since Cairn pins TimeZone to UTC).
func parsePGTimestamp(s []byte, tz bool) (int64, bool) {
	switch string(s) {
	case "infinity":
		return pgTSInfinity, true
	case "-infinity":
		return pgTSNegInfinity, true
	}
	y, m, d, j, ok := parseYMD(s, 0, 4)
	if !ok || j >= len(s) || s[j] != ' ' {
		return 0, false
	}
	tod, j, ok := parsePGTime(s, j+1)
	if !ok || tod >= microsPerDay {
		return 0, false
	}
	if tz {
		if len(s)-j < 3 || string(s[j:j+3]) != "+00" {
			return 0, false
		}
		j += 3
	}
	if j < len(s) {
		if string(s[j:]) != " BC" {
			return 0, false
		}
		y = 1 - y
	}
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, false
	}
	us, ok := joinMicros(daysFromCivil(y, m, d), tod)
	if !ok || us == pgTSInfinity || us == pgTSNegInfinity {
		return 0, false
	}
	return us, true
}

// appendPGTimeTZ appends a timetz: time then offset.
func appendPGTimeTZ(dst []byte, us, east int64) []byte {
	return appendPGOffset(appendPGTime(dst, us), east)
}

func parsePGTimeTZ(s []byte) (us, east int64, ok bool) {
	us, j, ok := parsePGTime(s, 0)
	if !ok {
		return 0, 0, false
	}
	east, j, ok = parsePGOffset(s, j)
	if !ok || j != len(s) {
		return 0, 0, false
	}
	return us, east, true
}

// appendPGInterval appends an interval in IntervalStyle postgres
// (PostgreSQL's EncodeInterval, INTSTYLE_POSTGRES).
func appendPGInterval(dst []byte, months, days int32, us int64) []byte {
	if months == pgIntervalInfMonths && days == pgIntervalInfDays && us == pgIntervalInfMicros {
		return append(dst, "infinity"...)
	}
	if months == math.MinInt32 && days == math.MinInt32 && us == math.MinInt64 {
		return append(dst, "-infinity"...)
	}
	isZero, isBefore := true, false
	part := func(v int64, unit string) {
		if v == 0 {
			return
		}
		if !isZero {
			dst = append(dst, ' ')
		}
		if isBefore && v > 0 {
			dst = append(dst, '+')
		}
		dst = strconv.AppendInt(dst, v, 10)
		dst = append(dst, ' ')
		dst = append(dst, unit...)
		if v != 1 {
			dst = append(dst, 's')
		}
		isBefore, isZero = v < 0, false
	}
	part(int64(months/12), "year")
	part(int64(months%12), "mon")
	part(int64(days), "day")
	hour := us / microsPerHour
	rem := us - hour*microsPerHour
	minute := rem / microsPerMinute
	rem -= minute * microsPerMinute
	sec := rem / microsPerSecond
	fsec := rem - sec*microsPerSecond
	if isZero || hour != 0 || minute != 0 || sec != 0 || fsec != 0 {
		if !isZero {
			dst = append(dst, ' ')
		}
		switch {
		case hour < 0 || minute < 0 || sec < 0 || fsec < 0:
			dst = append(dst, '-')
		case isBefore:
			dst = append(dst, '+')
		}
		dst = appendPad(dst, abs64(hour), 2)
		dst = append(dst, ':')
		dst = appendPad(dst, abs64(minute), 2)
		dst = append(dst, ':')
		dst = appendPad(dst, abs64(sec), 2)
		dst = appendTrimmedFraction(dst, abs64(fsec))
	}
	return dst
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// parsePGInterval reads the postgres-style text back into PostgreSQL's
// (months, days, micros).
func parsePGInterval(s []byte) (months, days int32, us int64, ok bool) {
	switch string(s) {
	case "infinity":
		return pgIntervalInfMonths, pgIntervalInfDays, pgIntervalInfMicros, true
	case "-infinity":
		return math.MinInt32, math.MinInt32, math.MinInt64, true
	}
	var mon, day int64
	i := 0
	for i < len(s) {
		if i > 0 {
			if s[i] != ' ' {
				return 0, 0, 0, false
			}
			i++
		}
		neg := false
		start := i
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			neg = s[i] == '-'
			i++
		}
		v, j, okd := digits(s, i)
		if !okd {
			return 0, 0, 0, false
		}
		if j < len(s) && s[j] == ':' {
			// The time part, last.
			t, k, okt := parseHMS(s, i, 18)
			if !okt {
				return 0, 0, 0, false
			}
			f, k, _, okf := fraction(s, k)
			if !okf || k != len(s) {
				return 0, 0, 0, false
			}
			us = t + f
			if neg {
				us = -us
			}
			_ = start
			i = k
			break
		}
		if neg {
			v = -v
		}
		if j >= len(s) || s[j] != ' ' {
			return 0, 0, 0, false
		}
		k := j + 1
		e := k
		for e < len(s) && s[e] >= 'a' && s[e] <= 'z' {
			e++
		}
		switch string(s[k:e]) {
		case "year", "years":
			mon += v * 12
		case "mon", "mons":
			mon += v
		case "day", "days":
			day += v
		default:
			return 0, 0, 0, false
		}
		i = e
	}
	if mon < math.MinInt32 || mon > math.MaxInt32 || day < math.MinInt32 || day > math.MaxInt32 {
		return 0, 0, 0, false
	}
	return int32(mon), int32(day), us, true
}

// appendISOInterval appends an interval as an ISO 8601 duration, the way
// PostgreSQL's IntervalStyle iso_8601 prints it (used by the readable
// rendering): P1Y2M3DT4H5M6.7S, PT0S for zero.
func appendISOInterval(dst []byte, months, days int32, us int64) []byte {
	if (months == pgIntervalInfMonths && days == pgIntervalInfDays && us == pgIntervalInfMicros) ||
		(months == math.MinInt32 && days == math.MinInt32 && us == math.MinInt64) {
		return appendPGInterval(dst, months, days, us)
	}
	if months == 0 && days == 0 && us == 0 {
		return append(dst, "PT0S"...)
	}
	dst = append(dst, 'P')
	unit := func(v int64, u byte) {
		if v != 0 {
			dst = strconv.AppendInt(dst, v, 10)
			dst = append(dst, u)
		}
	}
	unit(int64(months/12), 'Y')
	unit(int64(months%12), 'M')
	unit(int64(days), 'D')
	if us != 0 {
		dst = append(dst, 'T')
		hour := us / microsPerHour
		rem := us - hour*microsPerHour
		minute := rem / microsPerMinute
		rem -= minute * microsPerMinute
		unit(hour, 'H')
		unit(minute, 'M')
		if rem != 0 {
			if rem < 0 {
				dst = append(dst, '-')
			}
			dst = strconv.AppendInt(dst, abs64(rem)/microsPerSecond, 10)
			dst = appendTrimmedFraction(dst, abs64(rem)%microsPerSecond)
			dst = append(dst, 'S')
		}
	}
	return dst
}

// appendPGFloat appends f as PostgreSQL prints float4 (bits 32) and
// float8 (64) with extra_float_digits > 0: the shortest digits that read
// back exactly, in fixed notation when the decimal exponent is in
// [-4, 6) for float4 and [-4, 15) for float8, else d.ddde±XX.
func appendPGFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0"...)
		}
		return append(dst, '0')
	}
	var buf [32]byte
	e := pgShortest(buf[:0], f, bits)
	// e is [-]d[.ddd]e±XX
	neg := e[0] == '-'
	if neg {
		e = e[1:]
	}
	p := 0
	for p < len(e) && e[p] != 'e' {
		p++
	}
	exp, _ := strconv.Atoi(string(e[p+1:]))
	limit := 15
	if bits == 32 {
		limit = 6
	}
	if exp < -4 || exp >= limit {
		if neg {
			dst = append(dst, '-')
		}
		return append(dst, e...)
	}
	var dg [24]byte
	nd := 0
	for _, c := range e[:p] {
		if c != '.' {
			dg[nd] = c
			nd++
		}
	}
	if neg {
		dst = append(dst, '-')
	}
	if exp < 0 {
		dst = append(dst, '0', '.')
		for range -exp - 1 {
			dst = append(dst, '0')
		}
		return append(dst, dg[:nd]...)
	}
	if nd <= exp+1 {
		dst = append(dst, dg[:nd]...)
		for range exp + 1 - nd {
			dst = append(dst, '0')
		}
		return dst
	}
	dst = append(dst, dg[:exp+1]...)
	dst = append(dst, '.')
	return append(dst, dg[exp+1:nd]...)
}

// pgShortest appends f in 'e' form with the shortest digits PostgreSQL's
// Ryu prints. PostgreSQL treats the rounding interval as open: a decimal
// exactly halfway between f and a neighbour does not count, even when
// reading it back would round to f. Go's shortest form may be such a
// halfway decimal; then one more digit is needed.
func pgShortest(dst []byte, f float64, bits int) []byte {
	e := strconv.AppendFloat(dst, f, 'e', -1, bits)
	if !maybeHalfway(e[len(dst):], f, bits) || !isHalfway(e[len(dst):], f, bits) {
		return e
	}
	maxDigits := 17
	if bits == 32 {
		maxDigits = 9
	}
	for p := countDigits(e[len(dst):]); p < maxDigits; p++ {
		e = strconv.AppendFloat(dst, f, 'e', p, bits) // p+1 significant digits
		e = trimMantissaZeros(e, len(dst))
		g, _ := strconv.ParseFloat(string(e[len(dst):]), bits)
		if g == f && !isHalfway(e[len(dst):], f, bits) {
			return e
		}
	}
	return strconv.AppendFloat(dst, f, 'e', maxDigits-1, bits)
}

// countDigits counts the mantissa digits of an 'e' form.
func countDigits(e []byte) int {
	n := 0
	for _, c := range e {
		if c == 'e' {
			break
		}
		if c >= '0' && c <= '9' {
			n++
		}
	}
	return n
}

// trimMantissaZeros drops trailing zeros (and a bare point) of the
// mantissa of the 'e' form at b[from:].
func trimMantissaZeros(b []byte, from int) []byte {
	i := from
	for i < len(b) && b[i] != 'e' {
		i++
	}
	j := i
	for j > from && b[j-1] == '0' {
		j--
	}
	if j > from && b[j-1] == '.' {
		j--
	}
	return append(b[:j], b[i:]...)
}

// maybeHalfway is a cheap filter for isHalfway: a halfway point between
// two floats is a dyadic rational with one more significant bit than a
// float, so a decimal D×10^k (D without trailing zeros) can only be one
// when it is an integer of at least 2^mantissa bits, or when 5^-k divides D.
func maybeHalfway(e []byte, f float64, bits int) bool {
	var d uint64
	nd, point := 0, -1
	i := 0
	if i < len(e) && e[i] == '-' {
		i++
	}
	for ; i < len(e) && e[i] != 'e'; i++ {
		if e[i] == '.' {
			point = nd
			continue
		}
		d = d*10 + uint64(e[i]-'0')
		nd++
	}
	exp, _ := strconv.Atoi(string(e[i+1:]))
	frac := nd - 1 // digits after the point in d.ddd
	if point < 0 {
		frac = 0
	}
	k := exp - frac // value = d × 10^k
	for d != 0 && d%10 == 0 {
		d /= 10
		k++
	}
	// value = M × 2^k' with M = D·5^k (k >= 0) or D/5^-k (k < 0, when
	// 5^-k divides D; otherwise the value is not dyadic). A value whose M
	// fits the mantissa is itself a float, so it is no halfway point.
	mantBits := uint(53)
	if bits == 32 {
		mantBits = 24
	}
	var m uint64
	if k >= 0 {
		m = d
		for range k {
			if m > math.MaxUint64/5 {
				return true
			}
			m *= 5
		}
	} else {
		if -k > 27 {
			return false
		}
		p5 := uint64(1)
		for range -k {
			p5 *= 5
		}
		if d%p5 != 0 {
			return false
		}
		m = d / p5
	}
	return m>>mantBits != 0
}

// isHalfway reports whether the decimal e equals the midpoint between f
// and one of its neighbours (exact rational arithmetic).
func isHalfway(e []byte, f float64, bits int) bool {
	var r big.Rat
	if _, ok := r.SetString(string(e)); !ok {
		return false
	}
	var lo, hi float64
	if bits == 32 {
		lo = float64(math.Nextafter32(float32(f), float32(math.Inf(-1))))
		hi = float64(math.Nextafter32(float32(f), float32(math.Inf(1))))
	} else {
		lo, hi = math.Nextafter(f, math.Inf(-1)), math.Nextafter(f, math.Inf(1))
	}
	var fr, m big.Rat
	fr.SetFloat64(f)
	for _, n := range []float64{lo, hi} {
		if math.IsInf(n, 0) {
			continue
		}
		var nr big.Rat
		nr.SetFloat64(n)
		m.Add(&fr, &nr)
		m.Mul(&m, big.NewRat(1, 2))
		if m.Cmp(&r) == 0 {
			return true
		}
	}
	return false
}
