//go:build race

package batch

// resultsRace is true when the tests run under the race detector.
const resultsRace = true
