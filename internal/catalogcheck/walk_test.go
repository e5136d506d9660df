package catalogcheck

import (
	"io/fs"

	"github.com/platdev/plat/catalog"
)

func fsWalk(f func(string, []byte)) error {
	return fs.WalkDir(catalog.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(catalog.FS, p)
		if err != nil {
			return err
		}
		f(p, b)
		return nil
	})
}
