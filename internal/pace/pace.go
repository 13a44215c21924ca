// Package pace spaces the requests lote sends to Stone: one limiter per run
// or reconciliation, shared by its workers, that waits out a Retry-After for
// all of them and adapts its rate to the server's, and the capped, jittered
// backoff between retries. batch and reconcile both pace through it.
package pace

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// AIMD tuning (libraries.md §4, tuned with bench/runbench): on a 429 the
// rate is multiplied by decrease, at most once per Retry-After pause (the
// answers of requests already in flight say nothing new); every second of
// successes adds increase requests per second, up to the configured rate.
const (
	aimdDecrease = 0.85
	aimdIncrease = 1.0 // requests/s per second of successes
	minRate      = 1.0
)

// Defaults that batch and reconcile share: Stone's documented rate limit,
// the attempts of one request, and how long one request may take.
const (
	DefaultRate           = 20.0
	DefaultMaxAttempts    = 8
	DefaultRequestTimeout = 30 * time.Second
)

// Limiter paces every request of a run: a shared gate that holds all
// workers until a Retry-After has passed, and a token bucket whose rate
// adapts (AIMD) to the server's limit. Time comes from the run's clock and
// sleeper, so tests drive it without sleeping.
type Limiter struct {
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	mu     sync.Mutex
	bucket *rate.Limiter
	max    float64
	cur    float64
	gate   time.Time // no request leaves before it
}

// New returns a Limiter of r requests per second that reads the time from
// now and waits with sleep.
func New(r float64, now func() time.Time, sleep func(context.Context, time.Duration) error) *Limiter {
	return &Limiter{now: now, sleep: sleep, bucket: rate.NewLimiter(rate.Limit(r), 1), max: r, cur: r}
}

// Wait blocks until a request may leave, or ctx ends.
func (l *Limiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	gate := l.gate
	now := l.now()
	l.mu.Unlock()
	if now.Before(gate) {
		// Everyone waits out the server's Retry-After. A pause set while
		// this one sleeps is not waited for again: that request at worst
		// meets another 429, which is retried.
		if err := l.sleep(ctx, gate.Sub(now)); err != nil {
			return err
		}
	}
	l.mu.Lock()
	now = l.now()
	res := l.bucket.ReserveN(now, 1)
	d := res.DelayFrom(now)
	l.mu.Unlock()
	if d <= 0 {
		return nil
	}
	if err := l.sleep(ctx, d); err != nil {
		l.mu.Lock()
		res.CancelAt(l.now())
		l.mu.Unlock()
		return err
	}
	return nil
}

// Throttled records a 429: every worker waits out retryAfter (at least a
// second, when the server gave none) and the rate steps down.
func (l *Limiter) Throttled(retryAfter time.Duration) {
	if retryAfter <= 0 {
		retryAfter = time.Second
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Before(l.gate) {
		// Already paused: this answer is from a request sent before the
		// pause, and the rate was already lowered for it.
		return
	}
	l.gate = now.Add(retryAfter)
	l.cur = max(minRate, l.cur*aimdDecrease)
	l.bucket.SetLimitAt(now, rate.Limit(l.cur))
}

// Succeeded creeps the rate back up: at cur requests per second, each
// success is 1/cur of a second of successes.
func (l *Limiter) Succeeded() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur >= l.max {
		return
	}
	l.cur = min(l.max, l.cur+aimdIncrease/l.cur)
	l.bucket.SetLimitAt(l.now(), rate.Limit(l.cur))
}

// Rate returns the requests per second allowed now.
func (l *Limiter) Rate() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cur
}

// Backoff is the pause before retry n (from 1): exponential from 200 ms,
// capped at 10 s, with full jitter so that workers that failed together do
// not retry together.
func Backoff(n int) time.Duration {
	const base, maxDelay = 200 * time.Millisecond, 10 * time.Second
	d := base
	for i := 1; i < n && d < maxDelay; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	return d/2 + rand.N(d/2+1)
}

// Sleep waits d on a real timer, or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
