package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/waterline-gis/waterline/web/uitest"
)

// TestBrowserSignIn signs in through the sign-in page in a real Chromium:
// the map sends a signed-out browser to the page, a wrong password is
// told, the right one opens the map (its API and tile requests carry the
// session cookie), and a click on a pipe plans a shutoff (a same-origin
// POST passes the CSRF check).
func TestBrowserSignIn(t *testing.T) {
	s := newAuthSite(t, siteOptions{})
	p := uitest.Open(t, s.baseURL+"/", uitest.Options{Timeout: 120 * time.Second})
	p.WaitFor(`location.pathname === '/login' && document.querySelector('#login-form') !== null`, 20*time.Second)
	p.Screenshot("page")
	signIn := func(name, pw string) {
		p.Eval(`(() => {
			document.querySelector('#login-name').value = `+jsString(name)+`;
			document.querySelector('#login-password').value = `+jsString(pw)+`;
			return true;
		})()`, nil)
		p.ClickOn("#login-submit")
	}
	signIn("dispatch1", "not the password")
	p.Do("wait for the error", chromedp.WaitVisible(chromedp.CSS("#login-error")))
	if txt := p.Text("#login-error"); !strings.Contains(txt, "Wrong user name or password") {
		t.Errorf("error shown: %q", txt)
	}
	signIn("dispatch1", s.passwd)
	p.Do("wait for the map", chromedp.WaitVisible(chromedp.CSS("#map")))
	p.WaitReady()
	// A click on a pipe plans a shutoff through the signed-in session.
	lon, lat := s.districtPoint(s.distA)
	p.ClickLngLat(lon, lat)
	p.WaitFor(`['ready', 'error'].includes(document.querySelector('#plan-panel')?.dataset.state) || !document.querySelector('#error-banner')?.hidden`, 30*time.Second)
	var state string
	p.Eval(`document.querySelector('#plan-panel').dataset.state`, &state)
	p.Screenshot("planned")
	if state != "ready" {
		var banner string
		p.Eval(`document.querySelector('#error-banner')?.textContent || ''`, &banner)
		t.Errorf("plan panel %q, banner %q", state, banner)
	}
	if errs := p.Errors(); len(errs) > 0 {
		t.Errorf("page errors: %v", errs)
	}
}

func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`)
	return "'" + r.Replace(s) + "'"
}
