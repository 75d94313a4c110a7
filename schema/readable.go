package schema

// The readable rendering of dates and times (Codec.Readable).

// appendReadableYMD writes an ISO 8601 date; years outside 0000..9999
// get a sign and at least four digits (ISO 8601 expanded form).
func appendReadableYMD(dst []byte, days int64) []byte {
	y, m, d := civilFromDays(days)
	switch {
	case y < 0:
		dst = append(dst, '-')
		dst = appendPad(dst, -y, 4)
	case y > 9999:
		dst = append(dst, '+')
		dst = appendPad(dst, y, 4)
	default:
		dst = appendPad(dst, y, 4)
	}
	dst = append(dst, '-')
	dst = appendPad(dst, int64(m), 2)
	dst = append(dst, '-')
	return appendPad(dst, int64(d), 2)
}

func appendReadableTime(dst []byte, tod int64) []byte {
	dst = appendClock(dst, tod)
	return appendTrimmedFraction(dst, tod%microsPerSecond)
}

// appendReadableOffset writes Z or ±HH:MM[:SS] (RFC 3339 style).
func appendReadableOffset(dst []byte, east int64) []byte {
	if east == 0 {
		return append(dst, 'Z')
	}
	if east > 0 {
		dst = append(dst, '+')
	} else {
		dst = append(dst, '-')
		east = -east
	}
	dst = appendPad(dst, east/3600, 2)
	dst = append(dst, ':')
	dst = appendPad(dst, east/60%60, 2)
	if east%60 != 0 {
		dst = append(dst, ':')
		dst = appendPad(dst, east%60, 2)
	}
	return dst
}

// appendReadableTemporal renders a date, time or timestamp value; the
// infinity sentinels print as "infinity" and "-infinity".
func appendReadableTemporal(dst []byte, k tkind, v int64) []byte {
	switch k {
	case tDate:
		switch v {
		case pgDateInfinity:
			return append(dst, "infinity"...)
		case pgDateNegInfinity:
			return append(dst, "-infinity"...)
		}
		return appendReadableYMD(dst, v)
	case tTimeMicros:
		return appendReadableTime(dst, v)
	}
	switch v {
	case pgTSInfinity:
		return append(dst, "infinity"...)
	case pgTSNegInfinity:
		return append(dst, "-infinity"...)
	}
	days, tod := splitMicros(v)
	dst = appendReadableYMD(dst, days)
	dst = append(dst, 'T')
	dst = appendReadableTime(dst, tod)
	if k == tTimestamp {
		dst = append(dst, 'Z')
	}
	return dst
}
