package portal

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/platdev/plat/drift"
	"github.com/platdev/plat/internal/userfile"
)

// Drift: the portal reads drift watch's reports directory (--drift-reports),
// where the service writes one JSON report per stack after each check. Of
// every report for a stack the newest (by startedAt) is shown. The directory
// is read again at most every driftTTL; files that are not drift reports
// (another schema, not JSON, too large, not regular) are skipped.

// Limits of the reports directory.
const (
	driftTTL        = 2 * time.Second
	maxDriftFile    = 64 << 20
	maxDriftReports = 10000
)

// stackDrift is the newest drift result of one stack.
type stackDrift struct {
	drift.StackReport
	CheckedAt time.Time
	File      string // the report's file name
}

// Name is the stack's name: the last element of its directory, which is
// where plat render writes a stack.
func (s *stackDrift) Name() string { return path.Base(s.Dir) }

// Changes counts the changed attributes.
func (s *stackDrift) Changes() int {
	n := 0
	for _, r := range s.Resources {
		n += len(r.Changes)
	}
	return n
}

type driftCache struct {
	dir string

	mu     sync.Mutex
	read   time.Time
	stacks []*stackDrift
	err    error
}

func newDriftCache(dir string) *driftCache { return &driftCache{dir: dir} }

// Configured reports whether a reports directory was given.
func (c *driftCache) configured() bool { return c.dir != "" }

// get returns the newest report of every stack, by stack directory.
func (c *driftCache) get(now time.Time) ([]*stackDrift, error) {
	if c.dir == "" {
		return nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.read.IsZero() && now.Sub(c.read) < driftTTL {
		return c.stacks, c.err
	}
	c.stacks, c.err = readDriftDir(c.dir)
	c.read = now
	return c.stacks, c.err
}

func readDriftDir(dir string) ([]*stackDrift, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // drift watch has not written any yet
	}
	if err != nil {
		return nil, err
	}
	newest := map[string]*stackDrift{}
	n := 0
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".json") || e.IsDir() {
			continue
		}
		if n++; n > maxDriftReports {
			break
		}
		b, err := userfile.Read(filepath.Join(dir, name), maxDriftFile)
		if err != nil {
			continue
		}
		var r drift.Report
		if json.Unmarshal(b, &r) != nil || r.SchemaVersion != drift.SchemaVersion {
			continue
		}
		for _, st := range r.Stacks {
			if old, ok := newest[st.Dir]; ok && !r.StartedAt.After(old.CheckedAt) {
				continue
			}
			newest[st.Dir] = &stackDrift{StackReport: st, CheckedAt: r.StartedAt, File: name}
		}
	}
	out := make([]*stackDrift, 0, len(newest))
	for _, s := range newest {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Dir < out[j].Dir })
	return out, nil
}

// driftData is the drift page's content.
type driftData struct {
	Configured bool
	Stacks     []*stackDrift
	Hidden     int // reports of stacks the login may not see
}

func (p *Portal) driftPage(w http.ResponseWriter, r *http.Request) {
	v, ok := p.viewer(w, r)
	if !ok {
		return
	}
	d := driftData{Configured: p.drift.configured()}
	all, err := p.drift.get(time.Now())
	if err != nil {
		p.log.Error("portal: read drift reports", "dir", p.drift.dir, "err", err)
		p.fail(w, r, v, http.StatusInternalServerError, "The drift reports directory could not be read; the error is in the server's log.")
		return
	}
	visible, err := p.visibleStacks(r, v)
	if err != nil {
		p.failErr(w, r, v, "the stacks", err)
		return
	}
	for _, s := range all {
		if v.All || visible[s.Name()] {
			d.Stacks = append(d.Stacks, s)
		} else {
			d.Hidden++
		}
	}
	p.render(w, r, v, http.StatusOK, "drift", "Drift", "drift", d)
}

// driftOf returns the newest drift result of the stack named name.
func (p *Portal) driftOf(name string) *stackDrift {
	all, _ := p.drift.get(time.Now())
	for _, s := range all {
		if s.Name() == name {
			return s
		}
	}
	return nil
}
