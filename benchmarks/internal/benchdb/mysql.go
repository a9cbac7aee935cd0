// Package benchdb gives a workload a database of its own on a shared
// MySQL-wire server (MySQL, MariaDB), created for it and dropped when it
// ends, so that runs never see each other's rows.
//
// A MySQLDB is safe for concurrent use.
package benchdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// ErrNoMySQL is returned by CreateMySQL when no server is named.
var ErrNoMySQL = errors.New("benchdb: no MySQL: set HEALTHCODE_TEST_MYSQL or hcbench -mysql")

// MySQLDB is a fresh database <prefix><random> on a MySQL-wire server.
type MySQLDB struct {
	Name  string
	admin string // DSN of the server, database as given
	cfg   *mysql.Config
}

// CreateMySQL creates a fresh database named prefix + 12 random hex digits
// on the server dsn names (go-sql-driver form user@tcp(host:port)/db, with
// or without a mysql:// prefix); its user must be allowed to create
// databases. Each package's workloads use a prefix of their own, so that
// a package's check for leftovers (Leftovers) does not count another's
// databases while its tests run at the same time.
func CreateMySQL(ctx context.Context, dsn, prefix string) (*MySQLDB, error) {
	if dsn == "" {
		return nil, ErrNoMySQL
	}
	cfg, err := mysql.ParseDSN(strings.TrimPrefix(dsn, "mysql://"))
	if err != nil {
		return nil, fmt.Errorf("benchdb: MySQL DSN: %w", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	d := &MySQLDB{Name: prefix + hex.EncodeToString(b[:]), admin: cfg.FormatDSN(), cfg: cfg}
	if err := d.Exec(ctx, "CREATE DATABASE "+d.Name); err != nil {
		return nil, fmt.Errorf("benchdb: create database: %w", err)
	}
	return d, nil
}

// DSN is the database's DSN in go-sql-driver form, without a prefix.
func (d *MySQLDB) DSN() string {
	c := d.cfg.Clone()
	c.DBName = d.Name
	return c.FormatDSN()
}

// Open opens a connection pool on the database.
func (d *MySQLDB) Open() (*sql.DB, error) { return sql.Open("mysql", d.DSN()) }

// Exec runs one statement on the server, on a connection of its own.
func (d *MySQLDB) Exec(ctx context.Context, stmt string) error {
	db, err := sql.Open("mysql", d.admin)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt)
	return err
}

// Drop drops the database.
func (d *MySQLDB) Drop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := d.Exec(ctx, "DROP DATABASE IF EXISTS "+d.Name); err != nil {
		return fmt.Errorf("benchdb: drop database %s: %w", d.Name, err)
	}
	return nil
}

// Leftovers lists the databases whose names start with prefix on the
// server dsn names, for tests that check every workload dropped its own.
func Leftovers(ctx context.Context, dsn, prefix string) ([]string, error) {
	cfg, err := mysql.ParseDSN(strings.TrimPrefix(dsn, "mysql://"))
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, err
	}
	defer db.Close()
	like := strings.ReplaceAll(prefix, "_", `\_`) + "%"
	rows, err := db.QueryContext(ctx, `SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE ?`, like)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}
