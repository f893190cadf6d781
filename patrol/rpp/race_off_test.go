//go:build !race

package rpp

const raceEnabled = false
