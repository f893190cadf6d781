//go:build race

package route_test

// raceEnabled: timing assertions are skipped under the race detector.
const raceEnabled = true
