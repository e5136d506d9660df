package sqlstore

import (
	"context"
	"fmt"
	"sync"
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

// stacksState records whether the stacks table exists yet.
type stacksState struct {
	mu    sync.Mutex
	ready bool
}

// ensureStacks creates the stacks table on first use, as ensureUsage does.
func (s *Store) ensureStacks(ctx context.Context) error {
	st := &s.stacks
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ready {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(74110303)`); err != nil {
			return err
		}
	}
	for _, stmt := range splitStatements(stacksSchema) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("create stacks table: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	st.ready = true
	return nil
}

// ReplaceStacks implements store.StackStore.
func (s *Store) ReplaceStacks(ctx context.Context, owner, repository string, stacks []store.InventoryStack, at time.Time) error {
	if err := s.ensureStacks(ctx); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(74110304, hashtext($1))`, owner+"\n"+repository); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM inventory_stacks WHERE owner = ? AND repository = ?`), owner, repository); err != nil {
		return err
	}
	for _, st := range stacks {
		if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO inventory_stacks (owner, repository, file, stack, doc, pushed_at) VALUES (?, ?, ?, ?, ?, ?)`),
			owner, repository, st.File, st.Name, string(st.Doc), at.UnixNano()); err != nil {
			return err
		}
	}
	return tx.Commit()
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
