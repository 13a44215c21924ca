package batch

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"lote/stone"
)

// ErrUnreachable is returned (wrapped with how long Stone was silent and
// the last connection error) when Stone gave no answer at all, no status
// of any kind, to any request for RunOptions.UnreachableAfter while rows
// were being sent: the connection refused, reset, or timed out. The run
// stops taking rows instead of retrying each one MaxAttempts times; the
// rows in flight stay attempted, and a resume sends them with the same keys.
var ErrUnreachable = errors.New("Stone is unreachable")

// DefaultUnreachableAfter is RunOptions.UnreachableAfter's default.
const DefaultUnreachableAfter = 30 * time.Second

// minSilentRequests is how many requests in a row must go unanswered,
// besides the time, before Stone is taken to be unreachable: one slow
// request is not an outage.
const minSilentRequests = 3

// reachability follows whether Stone answers the requests of a run. Any
// HTTP answer, a refusal or a 5xx included, proves it reachable.
type reachability struct {
	after time.Duration

	mu       sync.Mutex
	answered time.Time // the last answer, or when sending started
	silent   int       // requests without an answer since
	tripped  bool
}

func newReachability(after time.Duration, start time.Time) *reachability {
	return &reachability{after: after, answered: start}
}

// observe records the outcome of one request made at now. It returns
// the error that stops the run the first time Stone has been silent for
// longer than after, and nil otherwise, also after that first time, so
// that the reason is said once. timedOut says the request's own deadline
// passed.
func (r *reachability) observe(now time.Time, err error, timedOut bool) error {
	var se *stone.Error
	answered := err == nil || errors.As(err, &se)
	if !answered && !timedOut {
		// A request refused before it left (an unusable idempotency
		// key) says nothing about the bank; a failed connection does.
		if o, _ := stone.Classify(err); o == stone.OutcomeFinal {
			return nil
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if answered {
		r.answered, r.silent = now, 0
		return nil
	}
	r.silent++
	silentFor := now.Sub(r.answered)
	if r.tripped || r.silent < minSilentRequests || silentFor < r.after {
		return nil
	}
	r.tripped = true
	return fmt.Errorf("%w: no answer for %s (%d requests in a row), the last one: %v", ErrUnreachable,
		silentFor.Round(time.Millisecond), r.silent, err)
}
