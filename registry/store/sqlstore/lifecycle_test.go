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

// TestSQLiteLifecycleConformance runs the catalog and lifecycle cases on SQLite
// plus archive files.
func TestSQLiteLifecycleConformance(t *testing.T) { storetest.RunLifecycle(t, sqliteFiles(0)) }

// TestPostgresLifecycleConformance runs them on a real PostgreSQL with a real
// S3-compatible server for archives.
func TestPostgresLifecycleConformance(t *testing.T) {
	pg := registrytest.StartPostgres(t)
	s3 := registrytest.StartS3(t)
	storetest.RunLifecycle(t, func(t *testing.T) storetest.Opener {
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
