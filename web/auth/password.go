package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/waterline-gis/waterline/gis"
)

// HashParams are argon2id's cost parameters.
type HashParams struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultHashParams are OWASP's recommendation for argon2id: 19 MiB,
// two passes, one lane (about 30 ms on a server core).
func DefaultHashParams() HashParams { return HashParams{MemoryKiB: 19 * 1024, Time: 2, Threads: 1} }

// TestHashParams are cheap parameters for tests.
func TestHashParams() HashParams { return HashParams{MemoryKiB: 64, Time: 1, Threads: 1} }

// maxMemoryKiB bounds the memory a stored hash may ask for (256 MiB).
const maxMemoryKiB = 256 << 10

const (
	saltLen = 16
	keyLen  = 32
	// MinPassword and MaxPassword bound a password's length in bytes.
	MinPassword = 10
	MaxPassword = 256
)

// hashPassword returns the PHC string of pw:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (base64 without padding).
func hashPassword(pw string, p HashParams) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errBadHash = errors.New("auth: not an argon2id hash")

// parseHash reads a PHC argon2id string.
func parseHash(s string) (p HashParams, salt, key []byte, err error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, errBadHash
	}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return p, nil, nil, errBadHash
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return p, nil, nil, errBadHash
		}
		switch k {
		case "m":
			p.MemoryKiB = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > 255 {
				return p, nil, nil, errBadHash
			}
			p.Threads = uint8(n)
		default:
			return p, nil, nil, errBadHash
		}
	}
	// Bound the work a stored hash can ask for (a tampered row must not
	// make sign-in allocate gigabytes).
	if p.MemoryKiB < 8 || p.MemoryKiB > maxMemoryKiB || p.Time < 1 || p.Time > 10 || p.Threads < 1 || p.Threads > 16 {
		return p, nil, nil, errBadHash
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 || len(salt) > 64 {
		return p, nil, nil, errBadHash
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, errBadHash
	}
	return p, salt, key, nil
}

// verifyPassword says whether pw matches the PHC hash, in constant time.
func verifyPassword(pw, hash string) bool {
	p, salt, key, err := parseHash(hash)
	if err != nil {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// CheckPassword says whether a new password is acceptable: 10 to 256
// bytes of valid UTF-8 without control characters.
func CheckPassword(pw string) error {
	if len(pw) < MinPassword || len(pw) > MaxPassword {
		return gis.Errorf(gis.Invalid, "password.length", "a password has %d to %d bytes", MinPassword, MaxPassword)
	}
	if !utf8.ValidString(pw) {
		return gis.Errorf(gis.Invalid, "password.encoding", "a password must be UTF-8 text")
	}
	for _, r := range pw {
		if r < 0x20 || r == 0x7f {
			return gis.Errorf(gis.Invalid, "password.control", "a password may not hold control characters")
		}
	}
	return nil
}

// hash and verify take a slot of the hashing queue: each argon2id call
// takes MemoryKiB of memory, so a flood of sign-ins waits instead of
// exhausting memory.
func (s *Service) hash(ctx context.Context, pw string) (string, error) {
	select {
	case s.hashQ <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-s.hashQ }()
	return hashPassword(pw, s.opt.Hash)
}

func (s *Service) verify(ctx context.Context, pw, hash string) (bool, error) {
	select {
	case s.hashQ <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-s.hashQ }()
	if len(pw) > MaxPassword {
		return false, nil
	}
	return verifyPassword(pw, hash), nil
}

// needsRehash says whether a stored hash uses other parameters than the
// service's (it is upgraded at the next sign-in).
func (s *Service) needsRehash(hash string) bool {
	p, _, _, err := parseHash(hash)
	return err != nil || p != s.opt.Hash
}
