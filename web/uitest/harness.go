// Package uitest drives the map UI in a real headless Chromium (chromedp):
// Serve puts an http.Handler on 127.0.0.1:0, Open starts a fresh browser on
// a page of it, and the helpers wait for the page, evaluate JavaScript, click
// and save screenshots into artifacts/ (ignored by git).
//
// Chromium is /usr/bin/chromium (Debian's `chromium`; `make deps` installs
// it) unless WATERLINE_CHROMIUM names another. A test whose browser is
// missing fails: it is not skipped. Chinese labels are compared as text; for
// legible screenshots the machine needs a CJK font (Debian fonts-noto-cjk).
package uitest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// ChromiumPath returns the browser to run.
func ChromiumPath() (string, error) {
	if p := os.Getenv("WATERLINE_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium found: install Debian's chromium (`make deps`) or set WATERLINE_CHROMIUM")
}

// Serve serves h on 127.0.0.1 at a free port until the test ends and
// returns its base URL ("http://127.0.0.1:N/").
func Serve(t testing.TB, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln) //nolint:errcheck // returns on Close
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return "http://" + ln.Addr().String() + "/"
}

// OpenHandler serves h (Serve) and opens a browser on its root page (Open).
func OpenHandler(t testing.TB, h http.Handler, o Options) (*Page, string) {
	t.Helper()
	url := Serve(t, h)
	return Open(t, url, o), url
}

// Options shape a browser.
type Options struct {
	Width, Height int           // viewport; default 1280×800
	Mobile        bool          // emulate a phone (touch, device scale 2)
	Timeout       time.Duration // for the whole test's browser; default 90 s
	// Init are scripts run in every document before its own (e.g.
	// FakeGeolocation).
	Init []string
	// TimeZone is the browser's zone (an IANA name; default the
	// machine's).
	TimeZone string
}

// FakeGeolocation replaces navigator.geolocation with one the test drives:
// window.__geo.emit(lon, lat, timeMs, accuracyM) delivers a fix to every
// watcher (and is the fix getCurrentPosition answers with); __geo.watching
// counts the watchers.
const FakeGeolocation = `(() => {
	const g = { watchers: new Map(), next: 1, last: null };
	Object.defineProperty(g, 'watching', { get: () => g.watchers.size });
	g.emit = (lon, lat, t, acc) => {
		const pos = { coords: { longitude: lon, latitude: lat, accuracy: acc ?? 5, altitude: null, altitudeAccuracy: null, heading: null, speed: null }, timestamp: t };
		g.last = pos;
		for (const cb of g.watchers.values()) cb(pos);
	};
	const geo = {
		watchPosition(ok) { const id = g.next++; g.watchers.set(id, ok); return id; },
		clearWatch(id) { g.watchers.delete(id); },
		getCurrentPosition(ok, err) {
			setTimeout(() => g.last ? ok(g.last) : err && err({ code: 2, message: 'no fix yet' }), 0);
		},
	};
	window.__geo = g;
	Object.defineProperty(Navigator.prototype, 'geolocation', { get: () => geo, configurable: true });
})();`

// Page is one browser tab on the UI.
type Page struct {
	t   testing.TB
	Ctx context.Context // chromedp context, bounded by Options.Timeout: pass it to chromedp.Run

	close func() // ends the browser

	mu      sync.Mutex
	console []string // console messages and exceptions, in order
	errs    []string // uncaught exceptions and console.error
}

// Open starts a fresh headless Chromium (its own user-data-dir) and
// navigates it to url. The browser is closed when the test ends.
func Open(t testing.TB, url string, o Options) *Page {
	t.Helper()
	path, err := ChromiumPath()
	if err != nil {
		t.Fatal(err)
	}
	if o.Width == 0 {
		o.Width, o.Height = 1280, 800
	}
	if o.Timeout == 0 {
		o.Timeout = 90 * time.Second
	}
	// The defaults bring --headless, --no-first-run,
	// --disable-background-networking, --disable-sync,
	// --disable-dev-shm-usage and Puppeteer's other quiet flags.
	flags := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("mute-audio", true),
		// WebGL without a GPU: SwiftShader, which Chromium only uses when asked.
		chromedp.Flag("enable-unsafe-swiftshader", true),
		chromedp.Flag("use-angle", "swiftshader"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(o.Width, o.Height),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), flags...)
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// Start the browser with a context without a deadline (a deadline on
	// the first call would bound the browser's life), then bound the test.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	var cancelTimeout context.CancelFunc
	p := &Page{t: t}
	p.Ctx, cancelTimeout = context.WithTimeout(ctx, o.Timeout)
	p.close = func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	}
	t.Cleanup(cancelTimeout)
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			msg := fmt.Sprintf("console.%s: %s", m.Type, m.Text)
			if m.URL != "" {
				msg += fmt.Sprintf(" (%s:%d)", m.URL, m.Line+1)
			}
			p.mu.Lock()
			p.console = append(p.console, msg)
			if m.IsException() || m.Type == "error" {
				p.errs = append(p.errs, msg)
			}
			p.mu.Unlock()
		}
	}()
	opts := []chromedp.EmulateViewportOption{}
	if o.Mobile {
		opts = append(opts, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	for _, js := range o.Init {
		if err := chromedp.Do(p.Ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: js})
			return err
		})); err != nil {
			t.Fatalf("init script: %v", err)
		}
	}
	if o.TimeZone != "" {
		if err := chromedp.Do(p.Ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: o.TimeZone})
			return err
		})); err != nil {
			t.Fatalf("time zone %s: %v", o.TimeZone, err)
		}
	}
	p.Do("open "+url, chromedp.EmulateViewport(int64(o.Width), int64(o.Height), opts...), chromedp.Navigate(url))
	t.Cleanup(func() {
		if t.Failed() {
			for _, m := range p.Console() {
				t.Log(m)
			}
		}
	})
	return p
}

// Close ends the browser before the test does.
func (p *Page) Close() { p.close() }

// Console returns what the page logged so far.
func (p *Page) Console() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.console...)
}

// Errors returns the page's uncaught exceptions and console errors so far.
func (p *Page) Errors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errs...)
}

// Do runs chromedp actions in order, failing the test on error.
func (p *Page) Do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.Ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

// Eval evaluates a JavaScript expression (awaiting a promise) and decodes
// its JSON value into out (nil: ignore it).
func (p *Page) Eval(expr string, out any) {
	p.t.Helper()
	raw, err := chromedp.Run(p.Ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("eval %s: %v", expr, err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			p.t.Fatalf("eval %s: decode %s: %v", expr, raw, err)
		}
	}
}

// Text returns the text of the first element matching a CSS selector.
func (p *Page) Text(css string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.Ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		p.t.Fatalf("text of %s: %v", css, err)
	}
	return s
}

// ClickOn clicks the first element matching a CSS selector.
func (p *Page) ClickOn(css string) {
	p.t.Helper()
	p.Do("click "+css, chromedp.Click(chromedp.CSS(css)))
}

// WaitFor polls a JavaScript expression until it is truthy.
func (p *Page) WaitFor(expr string, timeout time.Duration) {
	p.t.Helper()
	_, err := chromedp.Run(p.Ctx, chromedp.Poll[[]byte](expr,
		chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		p.t.Fatalf("waiting for %s: %v", expr, err)
	}
}

// WaitAfterNavigation is WaitFor across a navigation the page is making
// (a form posted, a redirect): a poll cut off by the navigation starts
// again on the new document.
func (p *Page) WaitAfterNavigation(expr string, timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		_, err := chromedp.Run(p.Ctx, chromedp.Poll[[]byte](expr,
			chromedp.WithPollingTimeout(time.Until(deadline)), chromedp.WithPollingInterval(50*time.Millisecond)))
		if err == nil {
			return
		}
		if time.Now().After(deadline) || !strings.Contains(err.Error(), "navigated") && !strings.Contains(err.Error(), "context") && !strings.Contains(err.Error(), "Cannot find context") {
			p.t.Fatalf("waiting for %s: %v", expr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitReady waits until the map has rendered its first frames with tiles
// (window.__waterline.ready) and is idle.
func (p *Page) WaitReady() {
	p.t.Helper()
	p.WaitFor(`window.__waterline && window.__waterline.ready === true`, 60*time.Second)
	p.WaitIdle()
}

// WaitIdle waits until the map has no tiles or transitions pending.
func (p *Page) WaitIdle() {
	p.t.Helper()
	p.Eval(`new Promise((resolve) => {
		const m = window.__waterline.map;
		if (m.loaded() && m.areTilesLoaded() && !m.isMoving()) { resolve(true); return; }
		m.once('idle', () => resolve(true));
		m.triggerRepaint();
	})`, nil)
}

// Click clicks at viewport coordinates x, y (CSS pixels).
func (p *Page) Click(x, y float64) {
	p.t.Helper()
	p.Do(fmt.Sprintf("click %.0f,%.0f", x, y), chromedp.MouseClickXY(x, y))
}

// ClickLngLat clicks the map at a longitude/latitude.
func (p *Page) ClickLngLat(lon, lat float64) {
	p.t.Helper()
	var xy []float64
	p.Eval(fmt.Sprintf(`(() => {
		const m = window.__waterline.map;
		const pt = m.project([%v, %v]);
		const r = m.getContainer().getBoundingClientRect();
		return [r.left + pt.x, r.top + pt.y];
	})()`, lon, lat), &xy)
	p.Click(xy[0], xy[1])
}

// SetFiles sets the files of a file input (absolute paths).
func (p *Page) SetFiles(css string, paths ...string) {
	p.t.Helper()
	p.Do("set files of "+css, chromedp.SetUploadFiles(chromedp.CSS(css), paths))
}

// SetValue sets the value of an input, select or textarea and fires its
// input and change events.
func (p *Page) SetValue(css, value string) {
	p.t.Helper()
	b, _ := json.Marshal(value)
	c, _ := json.Marshal(css)
	var ok bool
	p.Eval(fmt.Sprintf(`(() => {
		const el = document.querySelector(%s);
		if (!el) return false;
		el.value = %s;
		el.dispatchEvent(new Event('input', { bubbles: true }));
		el.dispatchEvent(new Event('change', { bubbles: true }));
		return true;
	})()`, c, b), &ok)
	if !ok {
		p.t.Fatalf("no element %s", css)
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// Screenshot saves the page as artifacts/<test>[-name].png and returns the
// path.
func (p *Page) Screenshot(name string) string {
	p.t.Helper()
	png, err := chromedp.Run(p.Ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("screenshot: %v", err)
	}
	if err := os.MkdirAll("artifacts", 0o755); err != nil {
		p.t.Fatal(err)
	}
	file := unsafeName.ReplaceAllString(p.t.Name(), "_")
	if name != "" {
		file += "-" + unsafeName.ReplaceAllString(name, "_")
	}
	path := filepath.Join("artifacts", file+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot: %s", path)
	return path
}

// keyEnter presses Enter in the element matching a CSS selector.
func keyEnter(css string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(chromedp.Focus(chromedp.CSS(css)), chromedp.KeyEvent(kb.Enter))
}
