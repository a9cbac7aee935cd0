// Package benchmarks gathers the workload benchmarks of every SDK package,
// with their baselines and peers, for the hcbench CLI and `go test -bench`.
//
// Each SDK package has its workloads in a subpackage (codesbench,
// rulesbench, ...) exposing Workloads(bench.Scale). This module is separate
// from the SDK's so that peers (expr, SQLite) never reach an SDK importer.
package benchmarks

import (
	"github.com/healthcode-sdk/healthcode/benchmarks/bench"
	"github.com/healthcode-sdk/healthcode/benchmarks/codesbench"
	"github.com/healthcode-sdk/healthcode/benchmarks/dedupebench"
	"github.com/healthcode-sdk/healthcode/benchmarks/rulesbench"
	"github.com/healthcode-sdk/healthcode/benchmarks/serverbench"
	"github.com/healthcode-sdk/healthcode/benchmarks/slabench"
	"github.com/healthcode-sdk/healthcode/benchmarks/synthbench"
	"github.com/healthcode-sdk/healthcode/benchmarks/tracebench"
)

// All returns every workload at scale s, grouped by package.
func All(s bench.Scale) []bench.Workload {
	var ws []bench.Workload
	ws = append(ws, synthbench.Workloads(s)...)
	ws = append(ws, rulesbench.Workloads(s)...)
	ws = append(ws, slabench.Workloads(s)...)
	ws = append(ws, codesbench.Workloads(s)...)
	ws = append(ws, dedupebench.Workloads(s)...)
	ws = append(ws, tracebench.Workloads(s)...)
	ws = append(ws, serverbench.Workloads(s)...)
	return ws
}

// Postgres returns the workloads that need a PostgreSQL server, at scale s,
// against the server dsn names: the codes workloads over codes/pgstore,
// each subject in a schema of its own, and the healthcoded clusters, each
// in a database of its own (so dsn's user must be allowed to create
// databases). With an empty dsn they can be listed but not run.
func Postgres(s bench.Scale, dsn string) []bench.Workload {
	var ws []bench.Workload
	ws = append(ws, codesbench.PostgresWorkloads(s, dsn)...)
	ws = append(ws, serverbench.PostgresWorkloads(s, dsn)...)
	return ws
}

// MySQL returns the workloads that need a MySQL-wire server (MySQL,
// MariaDB), at scale s, against the server dsn names (go-sql-driver form
// user@tcp(host:port)/db, with or without mysql://): the codes workloads
// over codes/mysqlstore and the healthcoded cluster, each subject in a
// database of its own (so dsn's user must be allowed to create
// databases). With an empty dsn they can be listed but not run.
func MySQL(s bench.Scale, dsn string) []bench.Workload {
	var ws []bench.Workload
	ws = append(ws, codesbench.MySQLWorkloads(s, dsn)...)
	ws = append(ws, serverbench.MySQLWorkloads(s, dsn)...)
	return ws
}
