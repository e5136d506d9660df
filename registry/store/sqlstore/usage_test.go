package sqlstore_test

import (
	"context"
	"testing"

	"github.com/platdev/plat/internal/registrytest"
	"github.com/platdev/plat/registry/store"
	"github.com/platdev/plat/registry/store/sqlstore"
	"github.com/platdev/plat/registry/store/storetest"
)

// TestSQLiteUsageConformance runs the usage cases on SQLite.
func TestSQLiteUsageConformance(t *testing.T) { storetest.RunUsage(t, sqliteFiles(0)) }

// TestPostgresUsageConformance runs them on a real PostgreSQL.
func TestPostgresUsageConformance(t *testing.T) {
	pg := registrytest.StartPostgres(t)
	storetest.RunUsage(t, func(t *testing.T) storetest.Opener {
		dsn := pg.NewDatabase(t)
		return func() (store.Store, error) {
			return sqlstore.OpenPostgres(context.Background(), dsn, nil)
		}
	})
}
