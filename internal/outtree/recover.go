package outtree

// Recovery: a render killed mid-swap is rolled back from its journal, and the
// staging folders of renders killed before their swap are removed, by the next
// render into the same directory (or by Recover).

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Recover rolls back any render into out that was interrupted mid-swap and
// removes staging folders of interrupted renders, and returns the stack
// directories it restored. Write does this itself first.
func Recover(out string) ([]string, error) {
	unlock, err := lock(out)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", out, err)
	}
	defer unlock()
	var restored []string
	err = recoverLocked(out, func(p string) { restored = append(restored, p) }, "")
	return restored, err
}

// Pending lists the staging folders in out that interrupted renders left.
func Pending(out string) ([]string, error) {
	entries, err := os.ReadDir(out)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ps []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), stagePrefix) {
			ps = append(ps, filepath.Join(out, e.Name()))
		}
	}
	return ps, nil
}

// recoverLocked is Recover for a caller that holds out's lock: every staging
// folder then belongs to a run that is no longer running, apart from own, the
// caller's.
func recoverLocked(out string, recovered func(string), own string) error {
	stages, err := Pending(out)
	if err != nil {
		return err
	}
	for _, stage := range stages {
		if stage == own {
			continue
		}
		fi, err := os.Lstat(stage)
		if err != nil {
			return err
		}
		if fi.IsDir() {
			if err := recoverStage(out, stage, recovered); err != nil {
				return fmt.Errorf("recover the interrupted render %s: %w", filepath.ToSlash(stage), err)
			}
		}
		if err := os.RemoveAll(stage); err != nil {
			return err
		}
	}
	return nil
}

func recoverStage(out, stage string, recovered func(string)) error {
	b, err := ReadFile(stage, journalName, 1<<20)
	switch {
	case err == nil:
		names := strings.Fields(string(b))
		for _, n := range names {
			if !validName(n) {
				return fmt.Errorf("journal: stack directory name %q: want a single path element", n)
			}
		}
		changed, err := rollback(out, stage, names)
		if err != nil {
			return err
		}
		syncDir(out)
		if recovered != nil {
			for _, n := range changed {
				recovered(filepath.Join(out, n))
			}
		}
		return nil
	case errors.Is(err, fs.ErrNotExist):
		// Killed before its swap began; or a staging folder of plat before
		// journals, which set the previous folder aside as .old-<stack>.
		entries, err := os.ReadDir(stage)
		if err != nil {
			return err
		}
		for _, e := range entries {
			name, ok := strings.CutPrefix(e.Name(), ".old-")
			if !ok || !e.IsDir() || !validName(name) || exists(filepath.Join(out, name)) {
				continue
			}
			if err := os.Rename(filepath.Join(stage, e.Name()), filepath.Join(out, name)); err != nil {
				return err
			}
			if recovered != nil {
				recovered(filepath.Join(out, name))
			}
		}
		return nil
	default:
		return fmt.Errorf("journal: %w", err)
	}
}
