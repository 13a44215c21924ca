//go:build race

package ledger

// raceEnabled shrinks the largest tests under the race detector, which
// slows the pure-Go SQLite about fiftyfold.
const raceEnabled = true
