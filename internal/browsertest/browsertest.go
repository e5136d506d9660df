// Package browsertest drives a real headless Chromium (Debian's chromium, found
// through testtools) with chromedp, for end-to-end tests of the web portal that
// `plat registry serve` serves. One browser per test, started with the flags that
// work on CI machines and a user-data directory of its own; tabs are contexts of
// that browser. Every action runs under a timeout and fails the test with what
// it was doing. Screenshots go to an artefacts directory the test log names.
//
// It is a test harness: only tests import it, never a product package.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/platdev/plat/internal/testtools"
)

// Timeout bounds each Do, Run or Navigate a test makes through this package.
const Timeout = 20 * time.Second

// Browser is one headless Chromium process for one test.
type Browser struct {
	t    testing.TB
	root context.Context // the first tab; the browser lives as long as it does
}

// Start launches Chromium (testtools.Chromium: under -short the test skips,
// naming the tool) with a user-data directory in t.TempDir and stops it when t
// ends.
func Start(t testing.TB) *Browser {
	t.Helper()
	exe := testtools.Chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	root, cancel := chromedp.NewContext(alloc, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first action starts the browser and binds it to root, so it runs
	// without a deadline; the allocator gives up on its own after 20 s.
	start := time.Now()
	if err := chromedp.Do(root); err != nil {
		t.Fatalf("browsertest: start %s: %v", exe, err)
	}
	t.Logf("browsertest: %s started in %s", exe, time.Since(start).Round(time.Millisecond))
	return &Browser{t: t, root: root}
}

// Tab returns the browser's first tab.
func (b *Browser) Tab() context.Context { return b.root }

// NewTab opens another tab in the same browser (and cookie jar), closed when
// the test ends.
func (b *Browser) NewTab() context.Context {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.root)
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("browsertest: new tab: %v", err)
	}
	return ctx
}

// NewIncognitoTab opens a tab in a new browser context: no cookies shared with
// the other tabs.
func (b *Browser) NewIncognitoTab() context.Context {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.root, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("browsertest: new browser context: %v", err)
	}
	return ctx
}

// Do runs actions in tab under Timeout and fails the test on an error, saying
// what it was doing.
func Do(t testing.TB, tab context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
}

// Run runs one action in tab under Timeout and returns its value, failing the
// test on an error.
func Run[T any](t testing.TB, tab context.Context, what string, action chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
	return v
}

// Open navigates tab to url and waits for the page to load.
func Open(t testing.TB, tab context.Context, url string) {
	t.Helper()
	Do(t, tab, "open "+url, chromedp.Navigate(url))
}

// Eval evaluates a JavaScript expression in the page of tab and decodes its
// value into T.
func Eval[T any](t testing.TB, tab context.Context, expr string) T {
	t.Helper()
	return Run(t, tab, "evaluate "+expr, chromedp.Evaluate[T](expr))
}

// WaitTitle waits until the page's title is want (after a click or a form
// submission: the old page may have the selector the test would wait for) and
// fails the test with the last title seen.
func WaitTitle(t testing.TB, tab context.Context, want string) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(Timeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(tab, Timeout)
		title, err := chromedp.Run(ctx, chromedp.Title())
		cancel()
		if err == nil && title == want {
			return
		}
		last = title
	}
	loc, _ := chromedp.Run(tab, chromedp.Location())
	t.Fatalf("browser: title is %q at %s, want %q", last, loc, want)
}

// Location returns the URL of the page in tab.
func Location(t testing.TB, tab context.Context) string {
	t.Helper()
	return Run(t, tab, "read the location", chromedp.Location())
}

// DisableScript turns JavaScript off in tab (CDP script-execution emulation),
// as for a reader who browses without it; pages load after it without running
// a script.
func DisableScript(t testing.TB, tab context.Context) {
	t.Helper()
	Do(t, tab, "disable JavaScript", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
}

// Dialogs records every JavaScript dialog (alert, confirm, prompt,
// beforeunload) that a page in tab opens from now on, dismissing each, and
// returns a func that lists them ("alert: message").
func Dialogs(tab context.Context) func() []string {
	var mu sync.Mutex
	var seen []string
	events := chromedp.Events(tab, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			mu.Lock()
			seen = append(seen, string(ev.Type)+": "+ev.Message)
			mu.Unlock()
			_, _ = chromedp.Call(tab, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

// WatchProblems records, for every page tab loads from now on, the
// Content-Security-Policy violations the page reports (securitypolicyviolation
// events, recorded by a script the browser runs before the page's own) and the
// console's errors and uncaught exceptions. Call the returned func to list what
// was seen so far on the current page (CSP) and since the watch began (console).
func WatchProblems(t testing.TB, tab context.Context) func() []string {
	t.Helper()
	const recorder = `(() => {
  const seen = [];
  Object.defineProperty(window, '__platCSPViolations', {value: seen});
  document.addEventListener('securitypolicyviolation', e =>
    seen.push('csp ' + e.effectiveDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber));
})()`
	Do(t, tab, "install the CSP recorder", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: recorder})
		return err
	}))
	var mu sync.Mutex
	var console []string
	messages := chromedp.Console(tab)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				mu.Lock()
				console = append(console, "console "+m.String()+" ("+m.URL+")")
				mu.Unlock()
			}
		}
	}()
	return func() []string {
		t.Helper()
		csp := Eval[[]string](t, tab, `Array.from(window.__platCSPViolations || ['csp recorder missing: the page loaded before WatchProblems'])`)
		mu.Lock()
		defer mu.Unlock()
		return append(csp, console...)
	}
}

// Screenshot sets tab's viewport to width x height, captures the whole page
// as PNG into ArtefactsDir(t)/NAME.png, logs the path and returns it.
func Screenshot(t testing.TB, tab context.Context, name string, width, height int64) string {
	t.Helper()
	Do(t, tab, fmt.Sprintf("resize to %dx%d", width, height), chromedp.EmulateViewport(width, height))
	png := Run(t, tab, "screenshot "+name, chromedp.FullScreenshot(100))
	p := filepath.Join(ArtefactsDir(t), safeName.ReplaceAllString(name, "-")+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	t.Logf("browsertest: screenshot %s", p)
	return p
}

var safeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// ArtefactsDir returns (and creates) the directory screenshots are kept in:
// $PLAT_ARTIFACTS if set, else .artifacts/portal in the repository
// (gitignored), with the test's name below it.
func ArtefactsDir(t testing.TB) string {
	t.Helper()
	base := os.Getenv("PLAT_ARTIFACTS")
	if base == "" {
		base = filepath.Join(testtools.RepoRoot(t), ".artifacts", "portal")
	}
	d := filepath.Join(base, safeName.ReplaceAllString(t.Name(), "-"))
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatalf("browsertest: artefacts directory: %v", err)
	}
	return d
}

// Accessibility runs the in-browser accessibility basics on the page in tab
// and returns each problem found: an img without alt, a form control without
// a label (label element, aria-label or aria-labelledby), a heading that skips
// a level, other than exactly one h1, no <main>.
func Accessibility(t testing.TB, tab context.Context) []string {
	t.Helper()
	return Eval[[]string](t, tab, accessibilityJS)
}

const accessibilityJS = `(() => {
  const problems = [];
  const where = el => el.outerHTML.slice(0, 120);
  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('alt')) problems.push('img without alt: ' + where(img));
  }
  for (const el of document.querySelectorAll('input, select, textarea')) {
    const type = (el.getAttribute('type') || '').toLowerCase();
    if (['hidden', 'submit', 'button', 'reset', 'image'].includes(type)) continue;
    const named = (el.labels && el.labels.length > 0) || el.getAttribute('aria-label') ||
      (el.getAttribute('aria-labelledby') || '').split(/\s+/).some(id => id && document.getElementById(id));
    if (!named) problems.push('form control without a label: ' + where(el));
  }
  const headings = Array.from(document.querySelectorAll('h1, h2, h3, h4, h5, h6'));
  const h1s = headings.filter(h => h.tagName === 'H1').length;
  if (h1s !== 1) problems.push(h1s + ' h1 elements, want exactly one');
  let prev = 0;
  for (const h of headings) {
    const level = Number(h.tagName[1]);
    if (level > prev + 1) problems.push('heading skips from h' + prev + ' to ' + where(h));
    prev = level;
  }
  if (document.querySelectorAll('main').length !== 1) problems.push('want exactly one <main>');
  if (!document.documentElement.getAttribute('lang')) problems.push('<html> without lang');
  return problems;
})()`

// Text returns the visible text (innerText) of the first element matching the
// CSS selector sel, waiting for it to be present.
func Text(t testing.TB, tab context.Context, sel string) string {
	t.Helper()
	return strings.TrimSpace(Run(t, tab, "read the text of "+sel, chromedp.Text(chromedp.CSS(sel), chromedp.NodeReady)))
}
