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

// TestSQLiteProviders runs the provider-store suite on SQLite plus files.
func TestSQLiteProviders(t *testing.T) { storetest.RunProviders(t, sqliteFiles(0)) }

// TestPostgresS3Providers runs it on a real PostgreSQL and a real
// S3-compatible server (versitygw).
func TestPostgresS3Providers(t *testing.T) {
	pg := registrytest.StartPostgres(t)
	s3 := registrytest.StartS3(t)
	storetest.RunProviders(t, func(t *testing.T) storetest.Opener {
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
