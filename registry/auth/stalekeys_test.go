package auth

import (
	"context"
	"errors"
	"testing"
	"time"
)

// answers is a key set that gives its answers in turn, counting the calls.
type answers struct {
	errs  []error
	calls int
}

func (a *answers) VerifySignature(context.Context, string) ([]byte, error) {
	err := a.errs[min(a.calls, len(a.errs)-1)]
	a.calls++
	if err != nil {
		return nil, err
	}
	return []byte("{}"), nil
}

// TestStaleKeySetRetried: a token refused by a key set whose fetch it did not
// cause (the limiter says a fetch would still go to the issuer, as when
// go-oidc hands it a fetch that had already finished) is checked again; one
// refused after a fetch, or while the issuer cannot be reached, is not.
func TestStaleKeySetRetried(t *testing.T) {
	unknown := errors.New("failed to verify id token signature")
	down := errors.New("fetching keys oidc: get keys failed: connection refused")
	now := time.Now()
	clock := func() time.Time { return now }
	for _, tc := range []struct {
		name      string
		fetched   bool // the limiter holds a key set fetched just now
		errs      []error
		wantCalls int
		wantErr   bool
	}{
		{"no fetch since the interval: checked again", false, []error{unknown, nil}, 2, false},
		{"still refused after every retry", false, []error{unknown}, 1 + staleRetries, true},
		{"refused after a fetch of its own", true, []error{unknown, nil}, 1, true},
		{"issuer down", false, []error{down, nil}, 1, true},
		{"accepted at once", false, []error{nil}, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lim := &jwksLimiter{interval: 10 * time.Second, now: clock}
			if tc.fetched {
				lim.last, lim.body = now, []byte("{}")
			}
			ks := &answers{errs: tc.errs}
			_, err := recordingKeySet{ks, lim}.VerifySignature(context.Background(), "token")
			if ks.calls != tc.wantCalls || (err != nil) != tc.wantErr {
				t.Errorf("calls %d, err %v; want %d calls, error %v", ks.calls, err, tc.wantCalls, tc.wantErr)
			}
		})
	}
	// Without a limiter (KeySetInterval off) go-oidc fetches for every unknown
	// key id: nothing to check again.
	ks := &answers{errs: []error{unknown, nil}}
	if _, err := (recordingKeySet{ks, nil}).VerifySignature(context.Background(), "token"); err == nil || ks.calls != 1 {
		t.Errorf("without a limiter: calls %d, err %v", ks.calls, err)
	}
}
