package registry

import (
	"context"
	"time"

	"github.com/platdev/plat/registry/store"
)

// Downloads are counted in memory and written to the store in batches: one
// write per download would make every tofu init a database write.

// Run writes download counts to the store periodically until ctx ends, then
// writes what is left.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			s.Flush(fctx)
			cancel()
			return
		case <-t.C:
			s.Flush(ctx)
		}
	}
}

// Flush writes pending download counts to the store.
func (s *Service) Flush(ctx context.Context) {
	s.dlMu.Lock()
	pending := s.downloads
	s.downloads = map[store.Key]int64{}
	s.dlMu.Unlock()
	if len(pending) == 0 {
		return
	}
	if err := s.st.AddDownloads(ctx, pending); err != nil {
		s.log.Error("record downloads", "err", err)
		s.dlMu.Lock()
		for k, n := range pending {
			s.downloads[k] += n
		}
		s.dlMu.Unlock()
	}
}

// Download answers the download endpoint: it returns the archive location for
// version k (or the latest version when k.Version is "") and counts a download.
func (s *Service) Download(ctx context.Context, tok *store.Token, k store.Key) (string, error) {
	if err := s.CanRead(tok, k.Namespace); err != nil {
		return "", err
	}
	v, err := s.lookup(ctx, k)
	if err != nil {
		return "", err
	}
	s.dlMu.Lock()
	s.downloads[v.Key]++
	s.dlMu.Unlock()
	return s.ArchivePath(v.Key), nil
}
