package store

import "context"

// SetHook sets the test hook called before each step of a network write.
func SetHook(s *Store, f func(ctx context.Context, step string)) { s.hook = f }
