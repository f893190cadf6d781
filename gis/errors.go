package gis

import "fmt"

// ErrorKind classifies an Error for callers such as the HTTP layer.
type ErrorKind int

const (
	// Invalid input: a bad parameter, a value out of range.
	Invalid ErrorKind = iota + 1
	// NotFound: a named pipe, valve or item does not exist.
	NotFound
	// Conflict: the request contradicts the current state.
	Conflict
	// Unavailable: the service cannot answer yet (e.g. no network loaded).
	Unavailable
)

// Error is an error with a kind and a stable code, meant to be shown to the
// user as it is (Msg names what is wrong).
type Error struct {
	Kind ErrorKind
	Code string // stable, machine-readable: "pipe.not_found"
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Errorf returns an *Error.
func Errorf(kind ErrorKind, code, format string, args ...any) error {
	return &Error{Kind: kind, Code: code, Msg: fmt.Sprintf(format, args...)}
}
