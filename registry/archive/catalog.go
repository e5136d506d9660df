package archive

import (
	"io/fs"
	"testing/fstest"
)

// CatalogLimits bound a catalog archive: catalogs are CUE files of a few
// kilobytes each, held in memory whole while they are checked.
var CatalogLimits = Limits{
	MaxCompressed: 10 << 20,
	MaxUnpacked:   32 << 20,
	MaxFiles:      5000,
}

// ValidateCatalog checks a catalog archive with the same rules as Validate
// (gzip+tar; only regular files and directories; no absolute paths, "..",
// links or duplicates; size and count limits; modes normalised), without
// needing Terraform files, and keeps every file in Contents.All.
func ValidateCatalog(data []byte, lim Limits) (*Contents, error) {
	return validate(data, lim, true)
}

// FS returns the files of a validated catalog archive as a read-only file
// system in memory: nothing of it touches the disk.
func (c *Contents) FS() fs.FS {
	m := fstest.MapFS{}
	for name, data := range c.All {
		m[name] = &fstest.MapFile{Data: data, Mode: 0o444}
	}
	return m
}
