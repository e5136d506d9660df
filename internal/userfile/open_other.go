//go:build !unix

package userfile

// openFlags: no non-blocking open here; the stat before opening still refuses
// pipes and devices.
const openFlags = 0
