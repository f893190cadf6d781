package repair

import (
	"encoding/base64"
	"strings"
	"testing"
)

// FuzzParsePhoto: a milestone's photo (POST …/milestones "photo"): an
// http(s) URL or a base64 image data URL within maxPhoto bytes, nothing
// else.
func FuzzParsePhoto(f *testing.F) {
	for _, s := range []string{"", "https://photos.example/a.jpg", "javascript:alert(1)", "data:image/png;base64," + base64.StdEncoding.EncodeToString([]byte("\x89PNG")),
		"data:text/html;base64,PHNjcmlwdD4=", "data:image/jpeg,raw", "http://", "data:image/webp;base64,!!!", "file:///etc/passwd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePhoto(s)
		if err != nil {
			return
		}
		switch {
		case p.url != "":
			u := strings.ToLower(p.url)
			if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") || len(p.url) > maxText {
				t.Fatalf("accepted photo URL %q", p.url)
			}
		case p.data != nil:
			if len(p.data) > maxPhoto || (p.ctype != "image/jpeg" && p.ctype != "image/png" && p.ctype != "image/webp") {
				t.Fatalf("accepted %d bytes of %q", len(p.data), p.ctype)
			}
		case s != "":
			t.Fatalf("%q accepted as no photo", s)
		}
	})
}
