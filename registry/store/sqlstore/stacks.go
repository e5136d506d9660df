package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/platdev/plat/registry/store"
)

var (
	_ store.StackStore = (*Store)(nil)
)

// stacksSchema keeps the stacks of each repository's latest inventory push,
// one row per stack, its document as JSON text.
const stacksSchema = `CREATE TABLE IF NOT EXISTS inventory_stacks (
	owner TEXT NOT NULL,
	repository TEXT NOT NULL,
	file TEXT NOT NULL,
	stack TEXT NOT NULL,
	doc TEXT NOT NULL,
	pushed_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS inventory_stacks_push ON inventory_stacks (owner, repository)`

// ensureStacks creates the stacks table on first use, as ensureUsage does.
func (s *Store) ensureStacks(ctx context.Context) error {
	return s.stacks.ensure(ctx, s, 74110303, stacksSchema, "stacks")
}

// ReplaceStacks implements store.StackStore.
func (s *Store) ReplaceStacks(ctx context.Context, owner, repository string, stacks []store.InventoryStack, at time.Time) error {
	if err := s.ensureStacks(ctx); err != nil {
		return err
	}
	return s.replacePush(ctx, 74110304, "inventory_stacks", owner, repository, func(tx *sql.Tx) error {
		for _, st := range stacks {
			if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO inventory_stacks (owner, repository, file, stack, doc, pushed_at) VALUES (?, ?, ?, ?, ?, ?)`),
				owner, repository, st.File, st.Name, string(st.Doc), at.UnixNano()); err != nil {
				return err
			}
		}
		return nil
	})
}

// InventoryStacks implements store.StackStore.
func (s *Store) InventoryStacks(ctx context.Context) ([]store.PushedStack, error) {
	if err := s.ensureStacks(ctx); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT owner, repository, file, stack, doc, pushed_at FROM inventory_stacks ORDER BY owner, repository, file, stack`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.PushedStack
	for rows.Next() {
		var p store.PushedStack
		var doc string
		var at int64
		if err := rows.Scan(&p.Owner, &p.Repository, &p.File, &p.Name, &doc, &at); err != nil {
			return nil, err
		}
		p.Doc, p.PushedAt = []byte(doc), time.Unix(0, at).UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}
