package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/platdev/plat/registry/store"
)

// Tokens and the grant signing key.

// CreateToken implements store.Store.
func (s *Store) CreateToken(ctx context.Context, t store.Token) error {
	res, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO tokens (hash, namespace, scope, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING`),
		t.Hash, t.Namespace, string(t.Scope), t.CreatedAt.UnixNano())
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("token: %w", store.ErrExists)
	}
	return nil
}

// Token implements store.Store.
func (s *Store) Token(ctx context.Context, hash string) (store.Token, error) {
	t, err := scanToken(s.token.QueryRowContext(ctx, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("token: %w", store.ErrNotFound)
	}
	return t, err
}

// scanToken reads a row of hash, namespace, scope, created_at.
func scanToken(row interface{ Scan(...any) error }) (store.Token, error) {
	var t store.Token
	var scope string
	var created int64
	if err := row.Scan(&t.Hash, &t.Namespace, &scope, &created); err != nil {
		return store.Token{}, err
	}
	t.Scope = store.Scope(scope)
	t.CreatedAt = time.Unix(0, created).UTC()
	return t, nil
}

// Tokens implements store.Store.
func (s *Store) Tokens(ctx context.Context, namespace string) ([]store.Token, error) {
	q := `SELECT hash, namespace, scope, created_at FROM tokens`
	var args []any
	if namespace != "" {
		q += ` WHERE namespace = ?`
		args = append(args, namespace)
	}
	rows, err := s.db.QueryContext(ctx, s.rebind(q+` ORDER BY created_at, hash`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteToken implements store.Store.
func (s *Store) DeleteToken(ctx context.Context, hash string) error {
	res, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM tokens WHERE hash = ?`), hash)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("token: %w", store.ErrNotFound)
	}
	return nil
}

// SigningKey implements store.Store: the first caller's random key wins, and every
// later caller (on any replica) reads that one.
func (s *Store) SigningKey(ctx context.Context) ([]byte, error) {
	var rnd [32]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, err
	}
	if _, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`),
		"grant_key", hex.EncodeToString(rnd[:])); err != nil {
		return nil, err
	}
	var v string
	if err := s.db.QueryRowContext(ctx, s.rebind(`SELECT value FROM settings WHERE key = ?`), "grant_key").Scan(&v); err != nil {
		return nil, err
	}
	return hex.DecodeString(v)
}
