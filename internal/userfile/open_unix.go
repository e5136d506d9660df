//go:build unix

package userfile

import "syscall"

// openFlags make opening a named pipe return at once instead of waiting for a
// writer; for a regular file they change nothing.
const openFlags = syscall.O_NONBLOCK | syscall.O_NOCTTY
