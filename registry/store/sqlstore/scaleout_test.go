package sqlstore_test

import (
	"context"
	"testing"

	"github.com/platdev/plat/internal/registrytest"
	"github.com/platdev/plat/registry/store"
	"github.com/platdev/plat/registry/store/blobs"
	"github.com/platdev/plat/registry/store/sqlstore"
	"github.com/platdev/plat/registry/store/storetest"
)

// TestPostgresS3Conformance runs the conformance suite on the scale-out pair: a
// real PostgreSQL for metadata and a real S3-compatible server (versitygw) for
// archives.
func TestPostgresS3Conformance(t *testing.T) {
	pg := registrytest.StartPostgres(t)
	s3 := registrytest.StartS3(t)
	storetest.Run(t, func(t *testing.T) storetest.Opener {
		dsn := pg.NewDatabase(t)
		bucket := s3.NewBucket(t)
		return func() (store.Store, error) {
			ctx := context.Background()
			b, err := blobs.Open(ctx, bucket)
			if err != nil {
				return nil, err
			}
			return sqlstore.OpenPostgres(ctx, dsn, b)
		}
	})
}
