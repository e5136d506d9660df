package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// lazyTable is a table the store creates on first use rather than when it
// opens (opening a store does not need it): the inventory's usage and stacks.
type lazyTable struct {
	mu    sync.Mutex
	ready bool
}

// ensure creates the table from schema once, under the advisory lock lock on
// PostgreSQL (so replicas starting together do not race); what names it in
// errors.
func (t *lazyTable) ensure(ctx context.Context, s *Store, lock int64, schema, what string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ready {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, lock); err != nil {
			return err
		}
	}
	for _, stmt := range splitStatements(schema) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("create %s table: %w", what, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	t.ready = true
	return nil
}

// replacePush replaces, in one transaction, the rows of table that owner
// pushed for repository by what insert adds. On PostgreSQL the transaction
// first takes the advisory lock lock for this owner and repository: two
// pushes of one repository at once must not both delete before either
// inserts (read committed would keep both pushes' rows).
func (s *Store) replacePush(ctx context.Context, lock int32, table, owner, repository string, insert func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, lock, owner+"\n"+repository); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM `+table+` WHERE owner = ? AND repository = ?`), owner, repository); err != nil {
		return err
	}
	if err := insert(tx); err != nil {
		return err
	}
	return tx.Commit()
}
