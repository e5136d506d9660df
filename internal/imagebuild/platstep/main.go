// Command platstep runs one step of a Kubernetes Job around plat, for images
// that have no shell (the plat image is a static binary on an empty base). It
// is copied into the image as /usr/bin/plat-step by `make image`; it is not
// part of plat. See docs/deploy.md, "Sharded drift checks".
//
//		plat-step [--only-index N] [--wait FILE]... [--timeout D] [--ok-codes 0,2]
//		          [--notify-env VAR --notify-file FILE] -- COMMAND ARGS...
//
//	  - --only-index N: run COMMAND only in the pod whose JOB_COMPLETION_INDEX
//	    is N; elsewhere exit 0 at once.
//	  - --wait FILE: before running, wait until every FILE exists (polling), for
//	    at most --timeout; then run COMMAND anyway, so that it reports what is
//	    missing rather than the step hanging.
//	  - --ok-codes: exit codes of COMMAND that end the step successfully (exit 0),
//	    for example drift's 2 ("drift found"), which is a result, not a failure.
//	  - --notify-env VAR, --notify-file FILE: when COMMAND exits non-zero and the
//	    environment variable VAR holds a URL, POST FILE's contents to it as a
//	    Slack-compatible {"text": ...} message.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

type files []string

func (f *files) String() string     { return strings.Join(*f, ",") }
func (f *files) Set(v string) error { *f = append(*f, v); return nil }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plat-step", flag.ContinueOnError)
	fs.SetOutput(stderr)
	onlyIndex := fs.Int("only-index", -1, "run only where JOB_COMPLETION_INDEX is `N`")
	var wait files
	fs.Var(&wait, "wait", "wait for `FILE` to exist before running (repeatable)")
	timeout := fs.Duration("timeout", time.Hour, "longest wait for --wait files")
	poll := fs.Duration("poll", 5*time.Second, "how often to look for --wait files")
	okCodes := fs.String("ok-codes", "0", "exit `CODES` of the command that count as success")
	notifyEnv := fs.String("notify-env", "", "environment `VAR` holding a webhook URL")
	notifyFile := fs.String("notify-file", "", "`FILE` posted to the webhook when the command exits non-zero")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cmdArgs := fs.Args()
	if len(cmdArgs) == 0 {
		fmt.Fprintln(stderr, "plat-step: no command given (after --)")
		return 2
	}
	ok := map[int]bool{}
	for _, c := range strings.Split(*okCodes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil {
			fmt.Fprintf(stderr, "plat-step: --ok-codes %q: not a list of numbers\n", *okCodes)
			return 2
		}
		ok[n] = true
	}
	if *onlyIndex >= 0 {
		idx := os.Getenv("JOB_COMPLETION_INDEX")
		if idx != strconv.Itoa(*onlyIndex) {
			fmt.Fprintf(stdout, "plat-step: index %q is not %d, nothing to do\n", idx, *onlyIndex)
			return 0
		}
	}
	if missing := waitFor(wait, *timeout, *poll); len(missing) > 0 {
		fmt.Fprintf(stderr, "plat-step: still missing after %v: %s; running anyway\n", *timeout, strings.Join(missing, ", "))
	}
	cmd := exec.Command(cmdArgs[0], cmdArgs[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	code := 0
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			fmt.Fprintf(stderr, "plat-step: %v\n", err)
			return 1
		}
		code = ee.ExitCode()
	}
	if code != 0 && *notifyEnv != "" {
		if url := os.Getenv(*notifyEnv); url != "" {
			if err := notify(url, *notifyFile); err != nil {
				fmt.Fprintf(stderr, "plat-step: notify: %v\n", err)
				return 1
			}
		}
	}
	if ok[code] {
		return 0
	}
	return code
}

// waitFor polls until every file exists or timeout passes, and returns the
// ones still missing.
func waitFor(paths []string, timeout, poll time.Duration) []string {
	deadline := time.Now().Add(timeout)
	for {
		var missing []string
		for _, p := range paths {
			if _, err := os.Stat(p); err != nil {
				missing = append(missing, p)
			}
		}
		if len(missing) == 0 || !time.Now().Before(deadline) {
			return missing
		}
		time.Sleep(min(poll, time.Until(deadline)))
	}
}

func notify(url, file string) error {
	text := "plat: drift pass found drift or failed (no report file)"
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		text = string(b)
	}
	body, _ := json.Marshal(map[string]string{"text": text})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return errors.New("webhook URL is not valid") // never echo the URL: it is a secret
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return errors.New("webhook request failed")
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}
