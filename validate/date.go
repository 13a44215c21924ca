package validate

import (
	"strconv"
	"time"
)

// saoPaulo returns America/Sao_Paulo's time: UTC-3 all year, since Brazil
// abolished daylight saving time in 2019. A fixed zone keeps this package
// free of I/O (time.LoadLocation reads the system's zone files) and gives
// the same answer on every machine.
func saoPaulo() *time.Location {
	return time.FixedZone("America/Sao_Paulo", -3*60*60)
}

// civil is a calendar date; comparisons ignore time zones.
type civil struct{ y, m, d int }

func civilOf(t time.Time) civil {
	y, m, d := t.Date()
	return civil{y, int(m), d}
}

func (c civil) before(o civil) bool {
	if c.y != o.y {
		return c.y < o.y
	}
	if c.m != o.m {
		return c.m < o.m
	}
	return c.d < o.d
}

// String returns yyyy-mm-dd (years 1 to 9999, as parseDate reads them).
func (c civil) String() string {
	b := [10]byte{byte('0' + c.y/1000%10), byte('0' + c.y/100%10), byte('0' + c.y/10%10), byte('0' + c.y%10), '-',
		byte('0' + c.m/10), byte('0' + c.m%10), '-', byte('0' + c.d/10), byte('0' + c.d%10)}
	return string(b[:])
}

func (c civil) brazilian() string {
	return zeroPad(strconv.Itoa(c.d), 2) + "/" + zeroPad(strconv.Itoa(c.m), 2) + "/" + zeroPad(strconv.Itoa(c.y), 4)
}

// DateCheck is the outcome of checking a scheduled_to date.
type DateCheck struct {
	Date string // yyyy-mm-dd to send; "" when the date is in the past (executed at once)
	Past bool   // the date is before today: a warning, the transfer runs at once
}

// ScheduledDate checks a scheduled_to cell: "yyyy-mm-dd" (also how date
// cells arrive) or "dd/mm/yyyy". today is the current date in
// America/Sao_Paulo (only its calendar date counts). An impossible date
// (31/02/2027) is an error; a date more than one year after today is an
// error (Stone's default execution_limit_date, stone-api.md §4); a date
// before today is reported with Past, and not sent, because Stone would
// execute it at once anyway. An empty value returns the zero DateCheck.
func ScheduledDate(value string, today time.Time) (DateCheck, error) {
	v := trimSpace(value)
	if v == "" {
		return DateCheck{}, nil
	}
	c, ok := parseDate(v)
	if !ok {
		if c != (civil{}) {
			return DateCheck{}, fail(ErrInvalidDate, "There is no such day: %s/%s/%s does not exist on the calendar.", strconv.Itoa(c.d), strconv.Itoa(c.m), strconv.Itoa(c.y))
		}
		return DateCheck{}, fail(ErrInvalidDate, "Write the date as dd/mm/yyyy or yyyy-mm-dd.")
	}
	now := civilOf(today)
	limit := civilOf(time.Date(now.y+1, time.Month(now.m), now.d, 12, 0, 0, 0, time.UTC))
	switch {
	case limit.before(c):
		return DateCheck{}, fail(ErrDateTooFar, "Stone schedules at most one year ahead, until %s.", limit.brazilian())
	case c.before(now):
		return DateCheck{Past: true}, nil
	}
	return DateCheck{Date: c.String()}, nil
}

// parseDate reads yyyy-mm-dd or dd/mm/yyyy (day and month may have one
// digit) and rejects dates that do not exist. For a well-formed date that
// does not exist (31/02) it returns the date as written with ok false.
func parseDate(v string) (civil, bool) {
	var parts [3]string
	n := 0
	sep := byte(0)
	start := 0
	for i := 0; i <= len(v); i++ {
		if i < len(v) && isDigit(v[i]) {
			continue
		}
		if i < len(v) {
			if sep == 0 && (v[i] == '-' || v[i] == '/') {
				sep = v[i]
			}
			if v[i] != sep {
				return civil{}, false
			}
		}
		if n == 3 || i == start {
			return civil{}, false
		}
		parts[n] = v[start:i]
		n++
		start = i + 1
	}
	if n != 3 {
		return civil{}, false
	}
	var ys, ms, ds string
	switch {
	case sep == '-' && len(parts[0]) == 4 && len(parts[1]) <= 2 && len(parts[2]) <= 2:
		ys, ms, ds = parts[0], parts[1], parts[2]
	case sep == '/' && len(parts[2]) == 4 && len(parts[0]) <= 2 && len(parts[1]) <= 2:
		ds, ms, ys = parts[0], parts[1], parts[2]
	default:
		return civil{}, false
	}
	y, _ := strconv.Atoi(ys)
	m, _ := strconv.Atoi(ms)
	d, _ := strconv.Atoi(ds)
	if m < 1 || m > 12 || d < 1 || d > 31 || y < 1 {
		return civil{y, m, d}, false
	}
	t := time.Date(y, time.Month(m), d, 12, 0, 0, 0, time.UTC)
	if c := civilOf(t); c != (civil{y, m, d}) {
		return civil{y, m, d}, false // 31/02 rolls over to March: it does not exist
	}
	return civil{y, m, d}, true
}
