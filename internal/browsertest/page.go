package browsertest

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// ClickAndLoad clicks the first element matching the CSS selector sel (as a
// user would: mouse events at its centre) and waits for the page that the
// click loads.
func ClickAndLoad(t testing.TB, tab context.Context, sel string) {
	t.Helper()
	Run(t, tab, "click "+sel+" and wait for the new page",
		chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)))
}

// TypeAndSubmit types text into the form control matching sel, presses Enter
// and waits for the page that the form's submission loads.
func TypeAndSubmit(t testing.TB, tab context.Context, sel, text string) {
	t.Helper()
	Do(t, tab, "type into "+sel, chromedp.Clear(chromedp.CSS(sel), chromedp.NodeVisible), chromedp.SendKeys(chromedp.CSS(sel), text, chromedp.NodeVisible))
	Run(t, tab, "submit the form of "+sel+" and wait for the new page",
		chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.SendKeys(chromedp.CSS(sel), "\r", chromedp.NodeVisible)))
}

// Request is one request a page in a tab made.
type Request struct {
	Type network.ResourceType // Document, Stylesheet, Script, Image, XHR, Fetch, ...
	URL  string
}

// Requests records every request the pages of tab make from now on and
// returns a func that lists them and starts a new list.
func Requests(tab context.Context) func() []Request {
	var mu sync.Mutex
	var seen []Request
	events := chromedp.Events(tab, network.RequestWillBeSent)
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			mu.Lock()
			seen = append(seen, Request{Type: ev.Type, URL: ev.Request.URL})
			mu.Unlock()
		}
	}()
	return func() []Request {
		mu.Lock()
		defer mu.Unlock()
		out := seen
		seen = nil
		return out
	}
}

// Cookies returns the browser's cookies for the page of tab.
func Cookies(t testing.TB, tab context.Context) []*network.Cookie {
	t.Helper()
	return Run(t, tab, "read the cookies", chromedp.Action[[]*network.Cookie](func(ctx context.Context, tg *chromedp.Target) ([]*network.Cookie, error) {
		res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{})
		return res.Cookies, err
	}))
}

// Page is what a reader gets from a portal page, read the same way from the
// browser's DOM (Shown) and from the HTML of a plain HTTP response
// (ParsePage), so a test can say the two agree.
type Page struct {
	Title    string   // document title, whitespace collapsed
	H1       []string // text of every h1, whitespace collapsed
	Links    []string // href of every a[href] inside <main>, in order
	Snippets []string // text of every <pre><code class="snippet" data-copy>, exactly
}

// Shown reads the Page that tab shows.
func Shown(t testing.TB, tab context.Context) Page {
	t.Helper()
	return Eval[Page](t, tab, `(() => {
  const squash = s => s.replace(/\s+/g, ' ').trim();
  return {
    Title: squash(document.title),
    H1: Array.from(document.querySelectorAll('h1')).map(h => squash(h.textContent)),
    Links: Array.from(document.querySelectorAll('main a[href]')).map(a => a.getAttribute('href')),
    Snippets: Array.from(document.querySelectorAll('pre > code.snippet[data-copy]')).map(c => c.textContent),
  };
})()`)
}

// ParsePage reads the Page in an HTML document, without a browser.
func ParsePage(r io.Reader) (Page, error) {
	doc, err := html.Parse(r)
	if err != nil {
		return Page{}, fmt.Errorf("parse html: %w", err)
	}
	p := Page{H1: []string{}, Links: []string{}, Snippets: []string{}} // as Shown decodes them
	var walk func(n *html.Node, inMain bool)
	walk = func(n *html.Node, inMain bool) {
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Title:
				if p.Title == "" {
					p.Title = squash(textOf(n))
				}
			case atom.H1:
				p.H1 = append(p.H1, squash(textOf(n)))
			case atom.Main:
				inMain = true
			case atom.A:
				if href, ok := attr(n, "href"); ok && inMain {
					p.Links = append(p.Links, href)
				}
			case atom.Code:
				class, _ := attr(n, "class")
				_, copyable := attr(n, "data-copy")
				if copyable && slices.Contains(strings.Fields(class), "snippet") && n.Parent != nil && n.Parent.DataAtom == atom.Pre {
					p.Snippets = append(p.Snippets, textOf(n))
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inMain)
		}
	}
	walk(doc, false)
	return p, nil
}

func attr(n *html.Node, name string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == name {
			return a.Val, true
		}
	}
	return "", false
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

func squash(s string) string { return strings.Join(strings.Fields(s), " ") }
