package stonetest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"lote/stone"
)

// brasilia is America/Sao_Paulo's offset. Brazil abolished daylight saving
// time in 2019, so a fixed UTC−3 gives the right wall clock for every date
// a payout can use, without depending on the host's tz database.
var brasilia = time.FixedZone("BRT", -3*60*60)

const dateLayout = "2006-01-02"

// TED window in minutes after midnight, Brasília time (stone-api.md §2.4):
// 06:30 to 17:23, as the transfer pages' text and the sandbox note say; the
// TED page's alert says 17:20, and Options.EarlyCutoff selects that reading.
const (
	windowOpen       = 6*60 + 30
	windowClose      = 17*60 + 23
	windowCloseEarly = 17*60 + 20
)

// civilDate is the Brasília calendar date of t, as midnight UTC, so that
// dates compare and add without time zone surprises.
func civilDate(t time.Time) time.Time {
	y, m, d := t.In(brasilia).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// parseDate reads a yyyy-mm-dd date as a civil date.
func parseDate(s string) (time.Time, bool) {
	d, err := time.Parse(dateLayout, s)
	return d, err == nil
}

func isWeekend(d time.Time) bool {
	return d.Weekday() == time.Saturday || d.Weekday() == time.Sunday
}

func isBusinessDay(d time.Time) bool {
	_, hol := holiday(d)
	return !hol && !isWeekend(d)
}

// nextBusinessDay returns the first business day on or after civil date d.
func nextBusinessDay(d time.Time) time.Time {
	for !isBusinessDay(d) {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// windowOpening is the moment the TED window opens on civil date d.
func windowOpening(d time.Time) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 6, 30, 0, 0, brasilia)
}

// inWindow reports whether a TED created at t is executed at once.
func (s *Server) inWindow(t time.Time) bool {
	d := civilDate(t)
	if !s.opts.Sandbox && !isBusinessDay(d) {
		return false
	}
	local := t.In(brasilia)
	min := local.Hour()*60 + local.Minute()
	closeAt := windowClose
	if s.opts.EarlyCutoff && !s.opts.Sandbox {
		closeAt = windowCloseEarly
	}
	return min >= windowOpen && min < closeAt
}

// nextOpening is the next opening of the TED window after t, for a transfer
// created outside it: today's if the window has not opened yet, else the
// next day's (the next business day's in production mode).
func (s *Server) nextOpening(t time.Time) time.Time {
	d := civilDate(t)
	if (s.opts.Sandbox || isBusinessDay(d)) && t.Before(windowOpening(d)) {
		return windowOpening(d)
	}
	d = d.AddDate(0, 0, 1)
	if !s.opts.Sandbox {
		d = nextBusinessDay(d)
	}
	return windowOpening(d)
}

// executionLimit is the last date a TED can be scheduled for: today + 1 year.
func executionLimit(now time.Time) time.Time {
	return civilDate(now).AddDate(1, 0, 0)
}

// nextAvailable is the first date on which a TED created now executes.
func (s *Server) nextAvailable(now time.Time) time.Time {
	if s.inWindow(now) {
		return civilDate(now)
	}
	return civilDate(s.nextOpening(now))
}

// calendar builds the scheduling calendar of an operation type between
// civil dates start and end. Internal transfers run every day at any hour
// (stone-api.md §3.1), so their calendar lists no non-business day.
func (s *Server) calendar(now, start, end time.Time, operation string) stone.Calendar {
	c := stone.Calendar{
		ExecutionLimitDate:         executionLimit(now).Format(dateLayout),
		NextAvailableExecutionDate: s.nextAvailable(now).Format(dateLayout),
		NonBusinessDays:            []stone.NonBusinessDay{},
	}
	if operation == "internal_transfer" {
		c.NextAvailableExecutionDate = civilDate(now).Format(dateLayout)
		return c
	}
	for d := start; !d.After(end); d = d.AddDate(0, 0, 1) {
		name, hol := holiday(d)
		if !hol && !isWeekend(d) {
			continue
		}
		nb := stone.NonBusinessDay{Date: d.Format(dateLayout), IsWeekend: isWeekend(d), IsHoliday: hol}
		if hol {
			nb.HolidayDescription = ptr(name)
		}
		c.NonBusinessDays = append(c.NonBusinessDays, nb)
	}
	return c
}

// maxCalendarDays bounds a calendar request so that one query cannot make
// the emulator build an unbounded answer.
const maxCalendarDays = 3 * 366

// handleCalendar is GET /api/v1/schedulings/calendar (stone-api.md §4).
func (s *Server) handleCalendar(w http.ResponseWriter, r *http.Request, _ string) {
	now := s.Now()
	q := r.URL.Query()
	var reasons []stone.ErrorReason
	switch q.Get("operation_type") {
	case "external_transfer", "internal_transfer", "payment":
	case "":
		reasons = append(reasons, stone.ErrorReason{Error: "can't be blank", Path: []string{"operation_type"}})
	default:
		reasons = append(reasons, stone.ErrorReason{Error: "is invalid", Path: []string{"operation_type"}})
	}
	start, end := civilDate(now), executionLimit(now)
	if v := q.Get("start"); v != "" {
		d, ok := parseDate(v)
		if !ok {
			reasons = append(reasons, stone.ErrorReason{Error: "is invalid", Path: []string{"start"}})
		}
		start = d
	}
	if v := q.Get("end"); v != "" {
		d, ok := parseDate(v)
		if !ok {
			reasons = append(reasons, stone.ErrorReason{Error: "is invalid", Path: []string{"end"}})
		}
		end = d
	}
	if len(reasons) == 0 && (end.Before(start) || end.Sub(start) > maxCalendarDays*24*time.Hour) {
		reasons = append(reasons, stone.ErrorReason{Error: "must be after start and within 3 years of it", Path: []string{"end"}})
	}
	if len(reasons) > 0 {
		writeError(w, http.StatusBadRequest, stone.ErrorBody{Type: stone.ErrTypeValidation, Reason: reasons})
		return
	}
	body, err := json.Marshal(s.calendar(now, start, end, q.Get("operation_type")))
	if err != nil {
		writeError(w, http.StatusInternalServerError, stone.ErrorBody{Type: "srn:error:internal_server_error"})
		return
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && (inm == etag || inm == "*") {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	// The calendar page documents 201 Created (stone-api.md §4): odd for a
	// GET, but what a client written from the docs expects.
	writeBody(w, http.StatusCreated, body)
}
