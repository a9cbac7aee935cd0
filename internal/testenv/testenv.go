// Package testenv gives tests the real servers they need: a test asks for
// one and gets its address, or is skipped with a one-line reason when the
// environment names none, so that `go test -race work` passes on a laptop
// without them. Under CI (CI=true) a missing server fails the test
// instead: in CI a skip is a failure.
package testenv

import (
	"os"
	"testing"
)

// Environment variables that name the test servers.
const (
	PostgresVar = "HEALTHCODE_TEST_POSTGRES" // a postgres:// URL of a database the tests may write to
	MySQLVar    = "HEALTHCODE_TEST_MYSQL"    // a go-sql-driver/mysql DSN of such a database
)

// Postgres returns the PostgreSQL URL tests use, or skips t.
func Postgres(t testing.TB) string {
	t.Helper()
	return need(t, PostgresVar, "PostgreSQL")
}

// MySQL returns the MySQL-wire DSN tests use, or skips t.
func MySQL(t testing.TB) string {
	t.Helper()
	return need(t, MySQLVar, "MySQL")
}

// Require skips t, or fails it under CI, when ok is false: for a
// dependency other than a server (a browser, a binary), named in what.
func Require(t testing.TB, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if InCI() {
		t.Fatalf("%s: required under CI=true", what)
	}
	t.Skip(what)
}

// InCI reports whether the tests run under CI, where nothing may skip.
func InCI() bool { return os.Getenv("CI") == "true" }

func need(t testing.TB, env, what string) string {
	t.Helper()
	v := os.Getenv(env)
	Require(t, v != "", env+" not set: no "+what+" to test against")
	return v
}
