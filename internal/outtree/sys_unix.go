//go:build unix

package outtree

import (
	"errors"
	"os"
	"syscall"
)

// noFollow makes opening a symlink fail (ELOOP), and O_NONBLOCK makes opening
// a FIFO return at once, so that openRegular can refuse it instead of waiting.
const noFollow = syscall.O_NOFOLLOW | syscall.O_NONBLOCK

func isLoop(err error) bool { return errors.Is(err, syscall.ELOOP) }

// lock takes an exclusive flock on the directory itself, so no lock file is
// left in the output tree; the kernel releases it when the process dies, which
// is what lets the next run treat any staging folder as abandoned.
func lock(dir string) (func(), error) {
	unlock, _, err := flock(dir, syscall.LOCK_EX)
	return unlock, err
}

// tryLock takes an exclusive flock on dir without waiting: ok is false when
// another open file holds one, that is, when a live render owns dir.
func tryLock(dir string) (unlock func(), ok bool, err error) {
	return flock(dir, syscall.LOCK_EX|syscall.LOCK_NB)
}

// flock opens dir and flocks it with how; ok is false, with no error, when
// LOCK_NB found it held.
func flock(dir string, how int) (unlock func(), ok bool, err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, false, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, err
	}
	return func() { f.Close() }, true, nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // best effort: not every filesystem syncs directories
		d.Close()
	}
}
