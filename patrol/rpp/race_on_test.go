//go:build race

package rpp

// raceEnabled: timing assertions are skipped under the race detector.
const raceEnabled = true
