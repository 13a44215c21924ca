package stone

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ErrNotSent marks an error after which Stone cannot have acted on the call:
// the request never left the client (invalid input, no access token, the
// connection could not be opened, ctx ended first), or its only answer was a
// 401 that proves nothing was done. Test it with errors.Is; a row whose
// submission failed with ErrNotSent is still unknown to the bank.
var ErrNotSent = errors.New("stone: request not sent")

// ErrIdempotencyKey is wrapped by CreateTransfer when the idempotency key is
// empty or longer than 72 characters after strings.TrimSpace, or holds
// anything but printable ASCII (stone-api.md §5: Stone answers 431 to a longer
// key). No request is made.
var ErrIdempotencyKey = errors.New("idempotency key must be 1 to 72 printable ASCII characters")

// errType is an API error type as a sentinel: errors.Is(err, ErrKeyNotFound)
// is true for an *Error of that type, whatever its status.
type errType string

func (t errType) Error() string { return "stone: " + string(t) }

// Refusals that say what is wrong with the payee, so that a row can name
// the cell to fix (stone-api.md §3, criar-pagamento-pendente). All are 422
// and final: the same request will be refused again.
var (
	// ErrKeyNotFound: the Pix key is well formed but not in the DICT.
	ErrKeyNotFound error = errType(ErrTypeKeyNotFound)
	// ErrInvalidKey: the Pix key is not a valid key of any kind.
	ErrInvalidKey error = errType(ErrTypeInvalidKey)
	// ErrTargetInstitutionNotFound: the institution does not exist or, for
	// a Pix, does not take part in Pix.
	ErrTargetInstitutionNotFound error = errType(ErrTypeTargetInstitutionNotFound)
	// ErrTargetAccountNotFound: the target is a Stone account that does not
	// exist (an internal transfer, or a Pix to Stone by bank data).
	ErrTargetAccountNotFound error = errType(ErrTypeTargetAccountNotFound)
	// ErrCannotTransferToSource: the target is the paying account itself.
	ErrCannotTransferToSource error = errType(ErrTypeCannotTransferToSource)
	// ErrAlreadyConfirmed: a Pix confirmation found the payment past
	// CREATED, confirmed by an earlier request. The type is in Stone's list
	// of errors; when it is sent is not documented. Read the payment
	// (GetPix) rather than treat the row as refused.
	ErrAlreadyConfirmed error = errType(ErrTypeAlreadyConfirmed)
)

// Is makes errors.Is(err, ErrKeyNotFound) (and the other errType
// sentinels) match an answer of that type.
func (e *Error) Is(target error) bool {
	t, ok := target.(errType)
	return ok && e.Type == string(t)
}

// Error is a non-2xx answer from Stone's API or token endpoint
// (stone-api.md §6). Every documented body shape is read into Type, Reasons
// and Detail; a body that is not JSON (an HTML 502 page from a proxy) leaves
// Type empty and puts a short excerpt of the text in Detail.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Type is Stone's error type, such as "srn:error:validation", or the
	// OAuth error code ("invalid_client") for the token endpoint.
	Type string
	// Reasons are the cumulative validation failures, from a "reason",
	// "errors" or "validation_errors" list.
	Reasons []ErrorReason
	// Detail is the human text that came with the error: a "reason" string,
	// a "title", a "path", an OAuth error_description, or an excerpt of a
	// non-JSON body. At most about 200 bytes, on one line.
	Detail string
	// RequestID is the x-request-id header, to quote to Stone's support.
	RequestID string
	// RetryAfter is the Retry-After header as a duration from the moment
	// the answer was read (0 when absent or unreadable; capped at 24 h).
	RetryAfter time.Duration
}

// Error reads like
// "stone: 400 srn:error:validation: target.account.account_code: is invalid (request 9f3c)".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("stone: ")
	b.WriteString(strconv.Itoa(e.Status))
	if e.Type != "" {
		b.WriteByte(' ')
		b.WriteString(oneLine(e.Type, maxDetail))
	}
	sep := ": "
	const maxReasons = 10
	for i, r := range e.Reasons {
		if i == maxReasons {
			fmt.Fprintf(&b, "; and %d more", len(e.Reasons)-maxReasons)
			break
		}
		b.WriteString(sep)
		sep = "; "
		if len(r.Path) > 0 {
			b.WriteString(oneLine(strings.Join(r.Path, "."), maxDetail))
			b.WriteString(": ")
		}
		b.WriteString(oneLine(r.Error, maxDetail))
	}
	if e.Detail != "" {
		b.WriteString(sep)
		b.WriteString(e.Detail)
	}
	var extra []string
	if e.RequestID != "" {
		extra = append(extra, "request "+oneLine(e.RequestID, 80))
	}
	if e.RetryAfter > 0 {
		extra = append(extra, "retry after "+e.RetryAfter.String())
	}
	if len(extra) > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(extra, ", "))
		b.WriteByte(')')
	}
	return b.String()
}

// maxDetail bounds every piece of server text copied into an error, so that a
// hostile or broken answer cannot flood the logs.
const maxDetail = 200

// maxRetryAfter caps Retry-After: a larger value is a broken header, and the
// runner caps its own backoff anyway.
const maxRetryAfter = 24 * time.Hour

// newError builds the Error for a non-2xx answer read at now.
func newError(status int, h http.Header, body []byte, now time.Time) *Error {
	e := &Error{
		Status:     status,
		RequestID:  h.Get("X-Request-Id"),
		RetryAfter: parseRetryAfter(h.Get("Retry-After"), now),
	}
	decodeErrorBody(e, body)
	return e
}

// decodeErrorBody fills Type, Reasons and Detail from any body: Stone's
// documented shapes, Keycloak's {"error","error_description"}, a JSON value
// of an unexpected shape, or plain text/HTML.
func decodeErrorBody(e *Error, body []byte) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return
	}
	if trimmed[0] != '{' {
		e.Detail = excerpt(trimmed)
		return
	}
	var eb ErrorBody
	if err := json.Unmarshal(trimmed, &eb); err == nil {
		e.Type = oneLine(eb.Type, maxDetail)
		e.Reasons = eb.Reason
		var details []string
		for _, s := range []string{eb.ReasonText, eb.Title} {
			if s != "" {
				details = append(details, s)
			}
		}
		if eb.Path != "" {
			details = append(details, "path "+eb.Path)
		}
		e.Detail = oneLine(strings.Join(details, "; "), maxDetail)
	}
	// Keycloak (the token endpoint, stone-api.md §1.5) and shapes that
	// ErrorBody refuses (a "reason" of numbers, say): read the strings
	// that are there and keep an excerpt of the rest.
	if e.Type == "" && len(e.Reasons) == 0 && e.Detail == "" {
		var loose map[string]json.RawMessage
		if json.Unmarshal(trimmed, &loose) != nil {
			e.Detail = excerpt(trimmed)
			return
		}
		e.Type = oneLine(jsonString(loose["type"]), maxDetail)
		if e.Type == "" {
			e.Type = oneLine(jsonString(loose["error"]), maxDetail)
		}
		for _, k := range []string{"error_description", "title", "message", "reason"} {
			if s := jsonString(loose[k]); s != "" {
				e.Detail = oneLine(s, maxDetail)
				break
			}
		}
		if e.Type == "" && e.Detail == "" {
			e.Detail = excerpt(trimmed)
		} else if e.Detail == "" && loose["reason"] != nil {
			e.Detail = excerpt(loose["reason"])
		}
	}
}

// jsonString returns raw as a string when it is a JSON string, else "".
func jsonString(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// excerpt makes a short, single-line, valid UTF-8 summary of a body that is
// not a documented error: HTML tags are dropped so that a proxy's 502 page
// reads "502 Bad Gateway nginx".
func excerpt(body []byte) string {
	if len(body) > 4*maxDetail {
		body = body[:4*maxDetail]
	}
	var b strings.Builder
	inTag := false
	for _, r := range string(bytes.ToValidUTF8(body, []byte("\uFFFD"))) {
		switch {
		case r == '<':
			inTag = true
			b.WriteByte(' ')
		case r == '>' && inTag:
			inTag = false
		case !inTag:
			b.WriteRune(r)
		}
	}
	return oneLine(b.String(), maxDetail)
}

// oneLine collapses whitespace and control characters to single spaces,
// trims, and cuts s to at most max bytes on a rune boundary, the last three
// being "…" when something was cut.
func oneLine(s string, max int) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
		if b.Len() > 4*max {
			break // enough to know it will be cut
		}
	}
	out := b.String()
	if len(out) <= max {
		return out
	}
	const ellipsis = "…"
	cut := max - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(out[cut]) {
		cut--
	}
	return out[:cut] + ellipsis
}

// parseRetryAfter reads delta-seconds ("120") or an HTTP-date
// ("Wed, 21 Oct 2015 07:28:00 GMT") as a duration from now. Anything else,
// or a date in the past, is 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if strings.Trim(v, "0123456789") == "" {
		secs, err := strconv.ParseUint(v, 10, 64)
		if err != nil || secs > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter // only digits: too many of them
		}
		return time.Duration(secs) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	d := t.Sub(now)
	switch {
	case d < 0:
		return 0
	case d > maxRetryAfter:
		return maxRetryAfter
	}
	return d
}

// stage says how far a request got before it failed without a readable answer.
type stage uint8

const (
	// stageNotSent: nothing that could act on the call reached Stone.
	stageNotSent stage = iota
	// stagePartial: a connection was open but the request was not
	// completely written, so Stone cannot have read a whole request.
	stagePartial
	// stageWritten: the whole request was written; no answer was read.
	stageWritten
	// stageAnswered: a 2xx answer arrived but could not be read or
	// decoded, so what was created is unknown.
	stageAnswered
)

// cause says why a request was not sent, for Classify.
type cause uint8

const (
	causeNetwork  cause = iota // dial, DNS, TLS, reset, timeout
	causeCanceled              // the caller's ctx ended
	causeInput                 // the call's arguments are invalid
	causeAuth                  // no access token could be obtained
)

// sendError is a failure without an API answer that Classify can use: how far
// the request got and why it stopped.
type sendError struct {
	op    string // "POST /api/v1/external_transfers"
	stage stage
	cause cause
	err   error
}

func (e *sendError) Error() string {
	var what string
	switch e.stage {
	case stageNotSent:
		what = "not sent"
	case stagePartial:
		what = "request not completely written"
	case stageWritten:
		what = "request written, no answer"
	case stageAnswered:
		what = "answer unreadable"
	}
	return "stone: " + e.op + ": " + what + ": " + e.err.Error()
}

func (e *sendError) Unwrap() error { return e.err }

// Is makes errors.Is(err, ErrNotSent) true for requests that never left.
func (e *sendError) Is(target error) bool {
	return target == ErrNotSent && e.stage == stageNotSent
}

// Outcome is what the caller should do after a failed call. The zero value is
// OutcomeAmbiguous, the safe reading of an error nobody classified.
type Outcome uint8

const (
	// OutcomeAmbiguous: the request was written and no usable answer came
	// back (timeout, reset, ctx ended, unreadable 2xx). The transfer may
	// exist. Retry with the same idempotency key, or look it up; never
	// report it as failed.
	OutcomeAmbiguous Outcome = iota
	// OutcomeRetry: try again later with the same idempotency key (429,
	// 423, 5xx, a connection that could not be opened). Only when
	// errors.Is(err, ErrNotSent) is it certain that nothing was created;
	// a 5xx after retries run out is to be settled like an ambiguous one.
	OutcomeRetry
	// OutcomeFinal: do not retry. For an API answer (400, 403, 404, 422,
	// 431, 401 after a fresh token) Stone refused the call. A 409 is final
	// too, but says a request with this key was made before: the earlier
	// transfer may exist, so reconcile it and never resend with a new key
	// (stone-api.md §5). With ErrNotSent (bad input, ctx ended before
	// sending, the token endpoint refused the credentials) nothing left.
	OutcomeFinal
)

// String returns "ambiguous", "retry" or "final".
func (o Outcome) String() string {
	switch o {
	case OutcomeAmbiguous:
		return "ambiguous"
	case OutcomeRetry:
		return "retry"
	case OutcomeFinal:
		return "final"
	}
	return "outcome(" + strconv.Itoa(int(o)) + ")"
}

// Classify says what to do after err, returned by a Client method, and why, in
// words to log. A nil err is final ("ok"). An error this package did not
// produce is ambiguous: it cannot prove that nothing was sent.
func Classify(err error) (Outcome, string) {
	if err == nil {
		return OutcomeFinal, "ok"
	}
	var se *sendError
	if errors.As(err, &se) {
		return classifySend(se)
	}
	var ae *Error
	if errors.As(err, &ae) {
		return classifyStatus(ae)
	}
	return OutcomeAmbiguous, "unrecognised error, the request may have been sent"
}

func classifySend(se *sendError) (Outcome, string) {
	switch se.stage {
	case stageNotSent:
		switch se.cause {
		case causeCanceled:
			return OutcomeFinal, "not sent: context ended before the request was sent"
		case causeInput:
			return OutcomeFinal, "not sent: invalid request"
		case causeAuth:
			var ae *Error
			if errors.As(se.err, &ae) {
				o, why := classifyStatus(ae)
				if o == OutcomeFinal {
					return OutcomeFinal, "not sent: access token refused: " + why
				}
				return o, "not sent: token endpoint: " + why
			}
			var inner *sendError
			if !errors.As(se.err, &inner) {
				return OutcomeRetry, "not sent: token endpoint answer unusable"
			}
			if inner.cause == causeCanceled {
				return OutcomeFinal, "not sent: context ended while getting an access token"
			}
			return OutcomeRetry, "not sent: token endpoint unreachable"
		}
		return OutcomeRetry, "not sent: connection failed before the request was written"
	case stagePartial:
		if se.cause == causeCanceled {
			return OutcomeFinal, "context ended before the request was completely written"
		}
		return OutcomeRetry, "connection failed before the request was completely written"
	case stageAnswered:
		return OutcomeAmbiguous, "2xx answer could not be read: the transfer may exist"
	}
	if se.cause == causeCanceled {
		return OutcomeAmbiguous, "context ended after the request was written: the transfer may exist"
	}
	return OutcomeAmbiguous, "no answer after the request was written: the transfer may exist"
}

func classifyStatus(e *Error) (Outcome, string) {
	code := strconv.Itoa(e.Status)
	if e.Type != "" {
		code += " " + e.Type
	}
	switch s := e.Status; {
	case s == http.StatusTooManyRequests:
		return OutcomeRetry, code + ": rate limited"
	case s == http.StatusLocked:
		return OutcomeRetry, code + ": a request with this idempotency key is still in flight"
	case s >= 500:
		return OutcomeRetry, code + ": server error"
	case s == http.StatusUnauthorized:
		return OutcomeFinal, code + ": unauthenticated after a fresh token"
	case s == http.StatusConflict:
		return OutcomeFinal, code + ": idempotency key used before, the earlier transfer may exist: reconcile"
	}
	return OutcomeFinal, code + ": refused"
}
