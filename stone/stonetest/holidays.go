package stonetest

import "time"

// Days without TED, by Brazilian national banking calendar.
//
// Source: Febraban's banking holiday calendar ("feriados bancários
// nacionais") and its year-end notice of 2025-12-30: there is no banking
// business with the public on December 31 and "bank settlements, including
// TED, are not processed" that day (Pix runs normally). A TED scheduled for
// December 31 is therefore moved to the next business day, as Stone's
// calendar (non_business_days) says of any day without settlement.
// Nov 20 (Zumbi and Black Consciousness Day) is national since Law
// 14.759/2023, so from 2024 on.
//
// febrabanHolidays lists 2026 and 2027 as Febraban publishes them, checked
// date by date; other years follow the rules in holidayRule (fixed dates,
// and Carnival Monday and Tuesday, Good Friday and Corpus Christi from
// Easter), which TestHolidayTable holds equal to this table.
var febrabanHolidays = map[string]string{
	"2026-01-01": "Confraternização Universal",
	"2026-02-16": "Carnaval",
	"2026-02-17": "Carnaval",
	"2026-04-03": "Sexta-feira Santa",
	"2026-04-21": "Tiradentes",
	"2026-05-01": "Dia do Trabalho",
	"2026-06-04": "Corpus Christi",
	"2026-09-07": "Independência do Brasil",
	"2026-10-12": "Nossa Senhora Aparecida",
	"2026-11-02": "Finados",
	"2026-11-15": "Proclamação da República",
	"2026-11-20": "Dia Nacional de Zumbi e da Consciência Negra",
	"2026-12-25": "Natal",
	"2026-12-31": "Sem expediente bancário",

	"2027-01-01": "Confraternização Universal",
	"2027-02-08": "Carnaval",
	"2027-02-09": "Carnaval",
	"2027-03-26": "Sexta-feira Santa",
	"2027-04-21": "Tiradentes",
	"2027-05-01": "Dia do Trabalho",
	"2027-05-27": "Corpus Christi",
	"2027-09-07": "Independência do Brasil",
	"2027-10-12": "Nossa Senhora Aparecida",
	"2027-11-02": "Finados",
	"2027-11-15": "Proclamação da República",
	"2027-11-20": "Dia Nacional de Zumbi e da Consciência Negra",
	"2027-12-25": "Natal",
	"2027-12-31": "Sem expediente bancário",
}

// holiday names the day without TED on civil date d, if any: from
// febrabanHolidays for the years it lists, else by holidayRule.
func holiday(d time.Time) (string, bool) {
	if y := d.Year(); y == 2026 || y == 2027 {
		name, ok := febrabanHolidays[d.Format(dateLayout)]
		return name, ok
	}
	return holidayRule(d)
}

// holidayRule computes the national banking holidays of any year.
func holidayRule(d time.Time) (string, bool) {
	y, m, day := d.Date()
	switch {
	case m == time.January && day == 1:
		return "Confraternização Universal", true
	case m == time.April && day == 21:
		return "Tiradentes", true
	case m == time.May && day == 1:
		return "Dia do Trabalho", true
	case m == time.September && day == 7:
		return "Independência do Brasil", true
	case m == time.October && day == 12:
		return "Nossa Senhora Aparecida", true
	case m == time.November && day == 2:
		return "Finados", true
	case m == time.November && day == 15:
		return "Proclamação da República", true
	case m == time.November && day == 20 && y >= 2024:
		return "Dia Nacional de Zumbi e da Consciência Negra", true
	case m == time.December && day == 25:
		return "Natal", true
	case m == time.December && day == 31:
		return "Sem expediente bancário", true
	}
	e := easter(y)
	switch d {
	case e.AddDate(0, 0, -48), e.AddDate(0, 0, -47):
		return "Carnaval", true
	case e.AddDate(0, 0, -2):
		return "Sexta-feira Santa", true
	case e.AddDate(0, 0, 60):
		return "Corpus Christi", true
	}
	return "", false
}

// easter returns Easter Sunday of year y (Gregorian computus, the
// "anonymous" algorithm), from which Brazil's movable holidays follow.
func easter(y int) time.Time {
	a := y % 19
	b, c := y/100, y%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return time.Date(y, time.Month(month), day, 0, 0, 0, 0, time.UTC)
}
