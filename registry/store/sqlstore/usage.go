package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/platdev/plat/registry/store"
)

var _ store.UsageStore = (*Store)(nil)

func splitStatements(schema string) []string {
	var out []string
	for _, s := range strings.Split(schema, ";") {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

// usageSchema is the usage table, kept apart from the module tables: one
// row per stack's use of one version, as the latest inventory push of a
// repository by a namespace reported it.
const usageSchema = `CREATE TABLE IF NOT EXISTS inventory_uses (
	owner TEXT NOT NULL,
	repository TEXT NOT NULL,
	kind TEXT NOT NULL,
	namespace TEXT NOT NULL,
	name TEXT NOT NULL,
	system TEXT NOT NULL,
	version TEXT NOT NULL,
	stack TEXT NOT NULL,
	file TEXT NOT NULL,
	pushed_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS inventory_uses_push ON inventory_uses (owner, repository);
CREATE INDEX IF NOT EXISTS inventory_uses_target ON inventory_uses (kind, namespace, name, system, version)`

// ensureUsage creates the usage table on first use.
func (s *Store) ensureUsage(ctx context.Context) error {
	return s.usage.ensure(ctx, s, 74110301, usageSchema, "usage")
}

// ReplaceUses implements store.UsageStore.
func (s *Store) ReplaceUses(ctx context.Context, owner, repository string, uses []store.Use, at time.Time) error {
	if err := s.ensureUsage(ctx); err != nil {
		return err
	}
	return s.replacePush(ctx, 74110302, "inventory_uses", owner, repository, func(tx *sql.Tx) error {
		if len(uses) > 0 {
			ins, err := tx.PrepareContext(ctx, s.rebind(`INSERT INTO inventory_uses
				(owner, repository, kind, namespace, name, system, version, stack, file, pushed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`))
			if err != nil {
				return err
			}
			defer ins.Close()
			for _, u := range uses {
				if _, err := ins.ExecContext(ctx, owner, repository, u.Kind, u.Namespace, u.Name, u.System, u.Version, u.Stack, u.File, at.UnixNano()); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Uses implements store.UsageStore.
func (s *Store) Uses(ctx context.Context, kind, namespace, name, system string) ([]store.PushedUse, error) {
	if err := s.ensureUsage(ctx); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT owner, repository, kind, namespace, name, system, version, stack, file, pushed_at
		FROM inventory_uses WHERE kind = ? AND namespace = ? AND name = ? AND system = ?
		ORDER BY version, owner, repository, file, stack`), kind, namespace, name, system)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.PushedUse
	for rows.Next() {
		var u store.PushedUse
		var at int64
		if err := rows.Scan(&u.Owner, &u.Repository, &u.Kind, &u.Namespace, &u.Name, &u.System, &u.Version, &u.Stack, &u.File, &at); err != nil {
			return nil, err
		}
		u.PushedAt = time.Unix(0, at).UTC()
		out = append(out, u)
	}
	return out, rows.Err()
}

// UseCounts implements store.UsageStore.
func (s *Store) UseCounts(ctx context.Context) ([]store.UseCount, error) {
	if err := s.ensureUsage(ctx); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT kind, namespace, name, system, version, COUNT(*) FROM inventory_uses
		GROUP BY kind, namespace, name, system, version ORDER BY kind, namespace, name, system, version`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.UseCount
	for rows.Next() {
		var c store.UseCount
		if err := rows.Scan(&c.Kind, &c.Namespace, &c.Name, &c.System, &c.Version, &c.Stacks); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
