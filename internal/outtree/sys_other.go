//go:build !unix

package outtree

// Without O_NOFOLLOW, ReadFile relies on its Lstat of each element; without
// flock, two renders into one directory at once are not kept apart.
const noFollow = 0

func isLoop(error) bool { return false }

func lock(string) (func(), error) { return func() {}, nil }

func tryLock(string) (func(), bool, error) { return func() {}, true, nil }

func syncDir(string) {}
