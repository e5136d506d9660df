package drift

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// JobIndexEnv is the variable a Kubernetes Indexed Job sets to each pod's
// completion index; ParseShard reads it for the index "env".
const JobIndexEnv = "JOB_COMPLETION_INDEX"

// PassEnv names the pass of a drift check when --pass is not given.
const PassEnv = "PLAT_DRIFT_PASS"

// MaxShards bounds N in --shard I/N: far above any sensible fleet of pods, low
// enough that assignment (N hashes per stack) stays cheap.
const MaxShards = 10000

// Shard is one part of a sharded drift pass: Index of Count, 0 <= Index < Count.
type Shard struct {
	Index int
	Count int
}

// String renders s as I/N, the form ParseShard reads.
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// ParseShard reads a --shard value, I/N with 0 <= I < N <= MaxShards. I may be
// the word "env", which takes I from $JOB_COMPLETION_INDEX through getenv (the
// index Kubernetes gives each pod of an Indexed Job).
func ParseShard(s string, getenv func(string) string) (Shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	if !ok {
		return Shard{}, fmt.Errorf("shard %q: want I/N (for example 0/4, or env/4 to read $%s)", s, JobIndexEnv)
	}
	n, err := parseCount(ns)
	if err != nil {
		return Shard{}, fmt.Errorf("shard %q: N %w", s, err)
	}
	if n < 1 || n > MaxShards {
		return Shard{}, fmt.Errorf("shard %q: N must be 1 to %d", s, MaxShards)
	}
	from := ""
	if is == "env" {
		is = getenv(JobIndexEnv)
		if is == "" {
			return Shard{}, fmt.Errorf("shard %q: $%s is not set (it is set in the pods of a Kubernetes Indexed Job)", s, JobIndexEnv)
		}
		from = fmt.Sprintf(" ($%s=%q)", JobIndexEnv, is)
	}
	i, err := parseCount(is)
	if err != nil {
		return Shard{}, fmt.Errorf("shard %q%s: I %w", s, from, err)
	}
	if i >= n {
		return Shard{}, fmt.Errorf("shard %q%s: I must be 0 to %d (N-1), got %d", s, from, n-1, i)
	}
	return Shard{Index: i, Count: n}, nil
}

// parseCount reads a non-negative decimal number without sign or leading zeros.
func parseCount(s string) (int, error) {
	if s == "" {
		return 0, errors.New("is empty")
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("%q is not a number", s)
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("%q has a leading zero", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > MaxShards {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n, nil
}

// StackKey is the name a stack is sharded by: dir relative to the working
// directory wd, slash-separated and cleaned ("stacks/a", never "./stacks/a/"),
// so that pods with the same checkout in different places agree. A dir outside
// wd keeps its "../" prefix; wd "" takes dir as it is, cleaned.
func StackKey(dir, wd string) string {
	if wd != "" {
		abs := dir
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(wd, abs)
		}
		if rel, err := filepath.Rel(wd, abs); err == nil {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.ToSlash(filepath.Clean(dir))
}

// ShardOf returns the shard, 0 to count-1, that checks the stack with key:
// rendezvous (highest-random-weight) hashing. Each shard i scores the key with
// the first 8 bytes, big-endian, of SHA-256(key + "\n" + decimal i), and the
// highest score wins (ties, never seen in practice, to the lower index). A
// stack's shard depends only on its own key and count: adding or removing a
// stack moves no other stack, and going from N to N+1 shards moves only the
// stacks the new shard wins, about 1/(N+1) of them.
func ShardOf(key string, count int) int {
	best, bestScore := 0, uint64(0)
	buf := make([]byte, 0, len(key)+8)
	for i := range count {
		buf = append(append(append(buf[:0], key...), '\n'), strconv.Itoa(i)...)
		sum := sha256.Sum256(buf)
		score := binary.BigEndian.Uint64(sum[:8])
		if i == 0 || score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// Select returns the dirs that shard s checks, in their given order. wd is the
// working directory that StackKey takes keys relative to.
func Select(dirs []string, s Shard, wd string) []string {
	out := []string{}
	for _, d := range dirs {
		if ShardOf(StackKey(d, wd), s.Count) == s.Index {
			out = append(out, d)
		}
	}
	return out
}

// NewPassID returns a fresh pass name: the UTC time and 8 random hex digits
// (20261202T013514Z-3f9a1c2b). Shards of one pass must share a pass name, so a
// sharded pass should be given one (--pass, $PLAT_DRIFT_PASS) rather than let
// each shard make its own.
func NewPassID(now time.Time) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

// ValidPassID checks a pass name: 1 to 128 characters of letters, digits and
// . _ - : (a Kubernetes Job name, a CI run id, a timestamp all fit).
func ValidPassID(id string) error {
	if id == "" || len(id) > 128 {
		return fmt.Errorf("pass %q: want 1 to 128 characters", id)
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-', r == ':':
		default:
			return fmt.Errorf("pass %q: only letters, digits and . _ - : are allowed", id)
		}
	}
	return nil
}
