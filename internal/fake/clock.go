package fake

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"sync"
	"time"
)

// Clock is a clock that only moves when slept on or told to, so that
// tests drive retries, leases and pauses without waiting. The zero value
// is at the zero time; NewClock starts it elsewhere.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock d forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Sleep moves the clock d forward at once, unless ctx has ended: it has
// the signature of the sleepers lote's options take.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	return nil
}

// NoSleep returns at once unless ctx has ended: retries and pauses happen
// without waiting, and without moving any clock.
func NoSleep(ctx context.Context, d time.Duration) error { return ctx.Err() }

// Key is one 2048-bit RSA key for a whole test binary: generating one
// takes a noticeable fraction of a second, and every emulator of the
// binary can trust the same key.
var Key = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

var (
	keysMu sync.Mutex
	others = map[int]*rsa.PrivateKey{}
)

// OtherKey returns the test binary's n-th key besides Key (n ≥ 1), made
// once: for a test whose keys must differ, such as a client's and a
// server's, or one no emulator trusts.
func OtherKey(n int) *rsa.PrivateKey {
	keysMu.Lock()
	defer keysMu.Unlock()
	k, ok := others[n]
	if !ok {
		var err error
		if k, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		others[n] = k
	}
	return k
}
