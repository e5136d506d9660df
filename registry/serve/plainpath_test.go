package serve

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzPlainPath checks the promise the hot routes rely on: a target
// plainPath lets through parses with net/url (so fastRequest.HTTP cannot
// fail) and its path is the target's bytes up to '?', decoded as received.
func FuzzPlainPath(f *testing.F) {
	for _, s := range []string{
		"/v1/modules/acme/db/aws/versions",
		"/v1/archives/acme/db/aws/1.0.0.tar.gz?expires=1&grant=abc",
		"/v1/modules/acme/db/aws/1.0.0/download?x=%zz",
		"/a#b", "/a?b#c", "/a%2Fb", "//x", "/a?\x01", "/\x7f", "/é", "*", "http://h/a", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		if !plainPath([]byte(uri)) {
			return
		}
		u, err := url.ParseRequestURI(uri)
		if err != nil {
			t.Fatalf("plainPath(%q) but net/url refuses it: %v", uri, err)
		}
		path, _, _ := strings.Cut(uri, "?")
		if u.Path != path {
			t.Fatalf("plainPath(%q): net/url's path is %q, the hot routes read %q", uri, u.Path, path)
		}
	})
}

func TestPlainPathRefuses(t *testing.T) {
	for _, uri := range []string{"", "*", "http://h/a", "/a%2Fb", "/a b", "/a?\x01", "/a\x00", "/\x7f", "/é"} {
		if plainPath([]byte(uri)) {
			t.Errorf("plainPath(%q) = true, want false", uri)
		}
	}
	for _, uri := range []string{"/", "/v1/modules/a/b/c/versions", "/a?b=%zz"} {
		if !plainPath([]byte(uri)) {
			t.Errorf("plainPath(%q) = false, want true", uri)
		}
	}
}
