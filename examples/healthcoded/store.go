package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/healthcode-sdk/healthcode/codes"
	"github.com/healthcode-sdk/healthcode/codes/boltstore"
	"github.com/healthcode-sdk/healthcode/codes/mysqlstore"
	"github.com/healthcode-sdk/healthcode/codes/pgstore"
)

// codeStore is what healthcoded needs of a store: codes' three interfaces,
// a one-transaction link load for the demo, and Close.
type codeStore interface {
	codes.Store
	codes.LinkStore
	codes.AuditTrail
	LinkAll(ctx context.Context, links []codes.Link) error
	Close() error
}

// openStore opens the store cfg.Store names: the embedded bbolt file by
// default, codes/pgstore for a postgres:// URL, codes/mysqlstore (TiDB,
// OceanBase, MariaDB, MySQL) for mysql://user@tcp(host:port)/db.
func openStore(ctx context.Context, cfg Config) (codeStore, error) {
	switch {
	case cfg.Store == "":
		return boltstore.Open(filepath.Join(cfg.DataDir, "codes.db"), boltstore.DefaultConfig())
	case strings.HasPrefix(cfg.Store, "postgres://"), strings.HasPrefix(cfg.Store, "postgresql://"):
		pc := pgstore.DefaultConfig()
		pc.QueryTimeout, pc.Logger = cfg.StoreTimeout, cfg.Logger
		s, err := pgstore.Open(ctx, cfg.Store, pc)
		if err != nil {
			return nil, err
		}
		return pgStore{s}, nil
	case strings.HasPrefix(cfg.Store, "mysql://"):
		mc := mysqlstore.DefaultConfig()
		mc.QueryTimeout, mc.Logger = cfg.StoreTimeout, cfg.Logger
		return mysqlstore.Open(ctx, cfg.Store, mc)
	}
	return nil, fmt.Errorf("-store: want empty (the embedded bbolt file), a postgres:// URL or mysql://user@tcp(host:port)/db, got %q", redactDSN(cfg.Store))
}

// pgStore gives pgstore's Close the error result codeStore asks for.
type pgStore struct{ *pgstore.Store }

func (s pgStore) Close() error {
	s.Store.Close()
	return nil
}

// redactDSN keeps a store URL's scheme and host for an error message and
// drops what may be a password.
func redactDSN(s string) string {
	if scheme, rest, ok := strings.Cut(s, "://"); ok {
		if _, host, ok := strings.Cut(rest, "@"); ok {
			rest = host
		}
		return scheme + "://" + rest
	}
	if len(s) > 16 {
		return s[:16] + "..."
	}
	return s
}
