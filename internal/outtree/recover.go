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

// Pending lists the staging folders in out that interrupted renders left:
// those of renders still running (their folder is locked) are not listed.
func Pending(out string) ([]string, error) {
	stages, err := staging(out)
	if err != nil {
		return nil, err
	}
	var ps []string
	for _, stage := range stages {
		unlock, dead, err := lockDead(stage)
		if err != nil {
			return nil, err
		}
		if dead {
			unlock()
			ps = append(ps, stage)
		}
	}
	return ps, nil
}

// staging lists every staging folder in out, live or not.
func staging(out string) ([]string, error) {
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

// lockDead takes the lock of a staging folder whose render is dead, and
// reports dead false, holding nothing, when a live render holds it. An entry
// that is not a folder (no render makes one) is dead, with nothing to lock.
func lockDead(stage string) (unlock func(), dead bool, err error) {
	fi, err := os.Lstat(stage)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil // finished meanwhile
	}
	if err != nil {
		return nil, false, err
	}
	if !fi.IsDir() {
		return func() {}, true, nil
	}
	unlock, ok, err := tryLock(stage)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	return unlock, ok, err
}

// recoverLocked is Recover for a caller that holds out's lock: a staging
// folder whose own lock is free then belongs to a run that is no longer
// running; own, the caller's, and those of live renders still staging are
// left alone.
func recoverLocked(out string, recovered func(string), own string) error {
	stages, err := staging(out)
	if err != nil {
		return err
	}
	for _, stage := range stages {
		if stage == own {
			continue
		}
		unlock, dead, err := lockDead(stage)
		if err != nil {
			return err
		}
		if !dead {
			continue
		}
		err = recoverDead(out, stage, recovered)
		unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// recoverDead rolls back and removes the staging folder of a dead render.
func recoverDead(out, stage string, recovered func(string)) error {
	fi, err := os.Lstat(stage)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		if err := recoverStage(out, stage, recovered); err != nil {
			return fmt.Errorf("recover the interrupted render %s: %w", filepath.ToSlash(stage), err)
		}
	}
	return os.RemoveAll(stage)
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
