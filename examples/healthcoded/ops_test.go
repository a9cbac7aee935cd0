package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/healthcode-sdk/healthcode/internal/testenv"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// opsDir holds the Prometheus rules and the Grafana dashboard shipped for
// healthcoded (examples/ops).
const opsDir = "../ops"

// promtool finds Prometheus's promtool (Debian package prometheus); under
// CI a missing one fails the test.
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	testenv.Require(t, err == nil, "promtool not installed (apt-get install prometheus)")
	return path
}

// TestPrometheusRules checks the shipped alerting rules and runs their
// unit tests with promtool: each alert fires on the series meant to raise
// it, with its labels and annotations, and not on the healthy ones beside.
func TestPrometheusRules(t *testing.T) {
	tool := promtool(t)
	dir := filepath.Join(opsDir, "prometheus")
	rules, err := filepath.Glob(filepath.Join(dir, "*.rules.yml"))
	require.NoError(t, err)
	require.NotEmpty(t, rules)
	for _, r := range rules {
		test := strings.TrimSuffix(r, ".yml") + "_test.yml"
		require.FileExists(t, test, "every rules file has its promtool tests")
		for _, args := range [][]string{{"check", "rules", r}, {"test", "rules", test}} {
			out, err := exec.Command(tool, args...).CombinedOutput()
			require.NoError(t, err, "promtool %s:\n%s", strings.Join(args, " "), out)
		}
	}
}

// TestPrometheusRulesTestsCanFail makes sure the promtool tests are not
// vacuous: with a threshold moved, the unit tests of that rule fail.
func TestPrometheusRulesTestsCanFail(t *testing.T) {
	tool := promtool(t)
	src := filepath.Join(opsDir, "prometheus")
	dir := t.TempDir()
	for _, name := range []string{"healthcoded.rules.yml", "healthcoded.rules_test.yml"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		require.NoError(t, err)
		if name == "healthcoded.rules.yml" {
			const from = "healthcoded:shed_ratio:rate5m > 0.10"
			require.Contains(t, string(b), from)
			b = []byte(strings.Replace(string(b), from, "healthcoded:shed_ratio:rate5m > 0.30", 1))
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
	out, err := exec.Command(tool, "test", "rules", filepath.Join(dir, "healthcoded.rules_test.yml")).CombinedOutput()
	require.Error(t, err, "promtool passed rules with a moved threshold:\n%s", out)
	require.Contains(t, string(out), "HealthcodedSheddingHeavy")
}

// TestGrafanaDashboard checks the dashboard is a Grafana dashboard whose
// every query is valid PromQL: promtool checks them as recording rules,
// with Grafana's variables given plain values.
func TestGrafanaDashboard(t *testing.T) {
	exprs := dashboardExprs(t)
	require.NotEmpty(t, exprs)
	tool := promtool(t)
	vars := strings.NewReplacer("$__rate_interval", "5m", "$instance", ".*")
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rs []rule
	for i, e := range exprs {
		rs = append(rs, rule{Record: fmt.Sprintf("dashboard:query_%d", i), Expr: vars.Replace(e)})
	}
	b, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rs}}})
	require.NoError(t, err)
	f := filepath.Join(t.TempDir(), "dashboard.rules.yml")
	require.NoError(t, os.WriteFile(f, b, 0o644))
	out, err := exec.Command(tool, "check", "rules", f).CombinedOutput()
	require.NoError(t, err, "a dashboard query is not valid PromQL:\n%s", out)
}

// dashboardExprs returns every query of the shipped dashboard.
func dashboardExprs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(opsDir, "grafana", "healthcoded.json"))
	require.NoError(t, err)
	var d struct {
		UID    string `json:"uid"`
		Title  string `json:"title"`
		Panels []struct {
			Type    string `json:"type"`
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(b, &d))
	require.NotEmpty(t, d.UID)
	var exprs []string
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		require.NotEmpty(t, p.Targets, "panel %q has no query", p.Title)
		for _, q := range p.Targets {
			require.NotEmpty(t, q.Expr, "panel %q", p.Title)
			exprs = append(exprs, q.Expr)
		}
	}
	return exprs
}

// TestOpsMetricsExist checks that every healthcoded_ metric the alerting
// rules and the dashboard query is one a running healthcoded exports, so a
// renamed metric cannot leave an alert that never fires.
func TestOpsMetricsExist(t *testing.T) {
	used := map[string][]string{} // metric -> where
	name := regexp.MustCompile(`\bhealthcoded_[a-z0-9_]+`)
	note := func(where, expr string) {
		for _, m := range name.FindAllString(expr, -1) {
			used[m] = append(used[m], where)
		}
	}
	for _, e := range dashboardExprs(t) {
		note("grafana/healthcoded.json", e)
	}
	var rf struct {
		Groups []struct {
			Rules []struct {
				Alert, Record, Expr string
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	b, err := os.ReadFile(filepath.Join(opsDir, "prometheus", "healthcoded.rules.yml"))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, &rf))
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			note("prometheus/healthcoded.rules.yml "+r.Alert+r.Record, r.Expr)
		}
	}
	require.NotEmpty(t, used)

	// The rules are for nodes over a shared store, with alarms and an
	// audit export: their metrics exist only there.
	dir := t.TempDir()
	rules := alarmRules(t, dir, "http://127.0.0.1:9/hook", 50)
	s := start(t, filepath.Join(dir, "data"), "-store", testenv.PostgresDB(t), "-alarms", rules, "-syslog", "udp://127.0.0.1:9")
	// A counter vector shows in /metrics once it has a series.
	s.colour(s.people[1][0])
	resp, err := http.Get(s.base + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	exported := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "# TYPE "); ok {
			m, typ, _ := strings.Cut(rest, " ")
			exported[m] = true
			if typ == "histogram" || typ == "summary" {
				exported[m+"_bucket"], exported[m+"_sum"], exported[m+"_count"] = true, true, true
			}
		}
	}
	require.NoError(t, sc.Err())
	var missing []string
	for m, where := range used {
		if !exported[m] {
			missing = append(missing, fmt.Sprintf("%s (in %s)", m, strings.Join(slices.Compact(where), ", ")))
		}
	}
	slices.Sort(missing)
	require.Empty(t, missing, "queried but not exported by healthcoded")
}

// metric returns the value of one exported series, as the text format
// prints it (name and labels in sorted order), or fails the test.
func (s *server) metric(series string) float64 {
	s.t.Helper()
	resp, err := http.Get(s.base + "/metrics")
	require.NoError(s.t, err)
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			var f float64
			_, err := fmt.Sscan(v, &f)
			require.NoError(s.t, err, "%s", sc.Text())
			return f
		}
	}
	require.NoError(s.t, sc.Err())
	s.t.Fatalf("no series %s in /metrics", series)
	return 0
}

// TestAnomalyGauge transcodes a burst of people to red and checks that the
// anomaly gauge the alerting rule watches rises with the check that
// /admin/stats shows, and only for the colour and dimension concerned.
func TestAnomalyGauge(t *testing.T) {
	s := start(t, t.TempDir())
	const redTotal = `healthcoded_anomalies{colour="red",dimension="total",direction="rise"}`
	const yellowTotal = `healthcoded_anomalies{colour="yellow",dimension="total",direction="rise"}`
	statsSay := func() (n int) {
		var st struct {
			Anomalies []struct{ Colour, Dimension string }
		}
		require.Equal(t, 200, s.do("GET", "/admin/stats", auditor, "", &st))
		for _, a := range st.Anomalies {
			if a.Colour == "red" && a.Dimension == "total" {
				n++
			}
		}
		return n
	}
	require.Zero(t, s.metric(redTotal), "no anomaly in the seeded demo days")
	require.Zero(t, statsSay())

	n := 0
	for _, row := range s.people[1:] {
		if row[4] != "green" || row[1] != "身份证" {
			continue
		}
		body := fmt.Sprintf(`{"id":%q,"colour":"red","authorisation":"CDC-2026-77","reason":"anomaly test"}`, row[0])
		require.Equal(t, 200, s.do("POST", "/admin/transcode", transcoder, body, nil))
		if n++; n == 60 {
			break
		}
	}
	require.Equal(t, 60, n)
	require.Equal(t, 1.0, s.metric(redTotal))
	require.Equal(t, 1, statsSay(), "the gauge and the statistics page agree")
	require.Zero(t, s.metric(yellowTotal))
}

// metricOr is metric, with def for a series not exported yet.
func (s *server) metricOr(series string, def float64) float64 {
	s.t.Helper()
	resp, err := http.Get(s.base + "/metrics")
	require.NoError(s.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	if !strings.Contains(string(b), series+" ") {
		return def
	}
	return s.metric(series)
}
