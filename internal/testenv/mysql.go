package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// MySQLDB creates a fresh, empty database on the server MySQL names and
// returns its DSN (go-sql-driver form, user@tcp(host:port)/db); the
// database is dropped when t ends. It skips t (or fails it under CI) like
// MySQL.
func MySQLDB(t testing.TB) string {
	t.Helper()
	base := MySQL(t)
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatalf("testenv: %s: %v", MySQLVar, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "hc_t_" + hex.EncodeToString(b[:])
	exec := func(stmt string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := sql.Open("mysql", base)
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.ExecContext(ctx, stmt)
		return err
	}
	if err := exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("testenv: create database on %s: %v", cfg.Addr, err)
	}
	t.Cleanup(func() {
		if err := exec("DROP DATABASE IF EXISTS " + name); err != nil {
			t.Errorf("testenv: drop database %s: %v", name, err)
		}
	})
	cfg.DBName = name
	return cfg.FormatDSN()
}
