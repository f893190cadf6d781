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
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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
}

// Page is one browser tab on the UI.
type Page struct {
	t   testing.TB
	Ctx context.Context // chromedp context, bounded by Options.Timeout: pass it to chromedp.Run

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
	p := &Page{t: t}
	var cancelTimeout context.CancelFunc
	p.Ctx, cancelTimeout = context.WithTimeout(ctx, o.Timeout)
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
