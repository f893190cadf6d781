package auth

import (
	"strings"
	"testing"
)

// FuzzParseHash: a stored password hash is read before any sign-in; a
// damaged or hostile one must not panic nor ask for unbounded work.
func FuzzParseHash(f *testing.F) {
	h, _ := hashPassword("a password here", TestHashParams())
	for _, s := range []string{h, "", "$argon2id$v=19$m=4294967295,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", "$argon2id$v=19$m=64,t=1,p=0$$", "$2a$10$abc", "$argon2id$v=19$m=64,t=1,p=1,x=2$a$b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := parseHash(s)
		if err != nil {
			return
		}
		if p.MemoryKiB > maxMemoryKiB || p.Time > 10 || p.Threads > 16 || len(salt) > 64 || len(key) > 64 {
			t.Fatalf("%q accepted with %+v", s, p)
		}
		if p.MemoryKiB <= 1024 { // cheap enough to run here
			verifyPassword("x", s)
		}
	})
}

// FuzzNamesAndPasswords: user names and new passwords as the API and the
// command line take them.
func FuzzNamesAndPasswords(f *testing.F) {
	for _, s := range []string{"admin", "zhang.san", "a", "", "x' OR '1'='1", "张三", strings.Repeat("a", 65), "correct horse battery", "\x00abcdefghijk"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckName(s) == nil && (len(s) == 0 || len(s) > 64 || strings.ContainsAny(s, "'\" ;<>/\\\x00")) {
			t.Fatalf("name %q accepted", s)
		}
		if CheckPassword(s) == nil && (len(s) < MinPassword || len(s) > MaxPassword || strings.ContainsRune(s, 0)) {
			t.Fatalf("password %q accepted", s)
		}
		if _, err := ParseRole(s); err == nil && !strings.Contains("admin gis dispatcher district_manager crew viewer", s) {
			t.Fatalf("role %q accepted", s)
		}
	})
}
