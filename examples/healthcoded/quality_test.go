package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/examples/quality"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
)

const qualityRules = "../quality/testdata/quality.yaml"

// qualityAlarms writes alarm rules that send a quality run with problems
// to the webhook at url.
func qualityAlarms(t *testing.T, dir, url string) string {
	t.Helper()
	t.Setenv(alarmSecretEnv, "s3cret-for-tests")
	f := filepath.Join(dir, "alarms.yaml")
	require.NoError(t, os.WriteFile(f, fmt.Appendf(nil, `notifiers:
  - {name: ops, type: webhook, url: %s, secret_env: %s}
rules:
  - {name: data-quality, kind: quality_problems, severity: warning, notify: [ops]}
`, url, alarmSecretEnv), 0o600))
	return f
}

// waitRun polls a run until it has ended.
func (s *server) waitRun(id string) quality.Run {
	s.t.Helper()
	var run quality.Run
	until(s.t, "run "+id+" ends", func() bool {
		require.Equal(s.t, 200, s.do("GET", "/admin/quality/runs/"+id, auditor, "", &run))
		return run.State != quality.Running
	})
	return run
}

// TestQualityTasks: through the admin API a rule's run over the shipped
// day finds the planted defects, raises one alarm, re-runs to the same
// figures, lists its history, drills down to the records behind a figure
// and files its report as xlsx with the figures as numbers.
func TestQualityTasks(t *testing.T) {
	rc := newReceiver(t, "127.0.0.1:0")
	dir := t.TempDir()
	s := start(t, filepath.Join(dir, "data"), "-quality", qualityRules, "-alarms", qualityAlarms(t, dir, rc.url()),
		"-alarm-retry", "50ms")
	body := `{"rule":"sichuan-coding-daily","day":"2022-06-14"}`
	var started quality.Run
	require.Equal(t, 202, s.do("POST", "/admin/quality/run", rulesAdmin, body, &started))
	run := s.waitRun(started.ID)
	require.Equal(t, quality.Done, run.State)
	require.Equal(t, quality.Figures{Rows: 88, Missing: 4, Extra: 3, Duplicated: 2, Invalid: 6, Mismatched: 1}, run.Total)
	until(t, "the quality alarm reaches the webhook", func() bool { got, _ := rc.accepted(); return len(got) == 1 })
	_, rules := rc.accepted()
	require.Equal(t, []string{"data-quality"}, rules)

	var again quality.Run
	require.Equal(t, 202, s.do("POST", "/admin/quality/run", rulesAdmin, body, &again))
	require.NotEqual(t, started.ID, again.ID)
	require.Equal(t, run.Total, s.waitRun(again.ID).Total, "a re-run finds the same")

	var list struct{ Runs []quality.Run }
	require.Equal(t, 200, s.do("GET", "/admin/quality/runs", auditor, "", &list))
	require.Len(t, list.Runs, 2)
	require.Equal(t, again.ID, list.Runs[0].ID, "newest first")

	var recs struct{ Records []quality.Sample }
	require.Equal(t, 200, s.do("POST", "/admin/quality/records", auditor,
		fmt.Sprintf(`{"id":%q,"check":"validate coded"}`, run.ID), &recs))
	require.Len(t, recs.Records, 3)
	for _, r := range recs.Records {
		require.Contains(t, r.Key, "*", "masked")
	}

	req, err := http.NewRequest("GET", s.base+"/admin/quality/runs/"+run.ID+"/report.xlsx", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+auditor)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode, "%s", b)
	f, err := excelize.OpenReader(bytes.NewReader(b))
	require.NoError(t, err)
	v, err := f.GetCellValue(f.GetSheetList()[0], cellOf(t, f, "缺失 (missing)"))
	require.NoError(t, err)
	require.Equal(t, "4", v)

	// Refusals: an unknown rule, a day outside the rule's validity, a
	// lower role (audited like every other admin call).
	require.Equal(t, 404, s.do("POST", "/admin/quality/run", rulesAdmin, `{"rule":"nope","day":"2022-06-14"}`, nil))
	require.Equal(t, 400, s.do("POST", "/admin/quality/run", rulesAdmin, `{"rule":"sichuan-coding-daily","day":"2023-06-14"}`, nil))
	require.Equal(t, 403, s.do("POST", "/admin/quality/run", auditor, body, nil))
}

// cellOf finds the value cell beside a label on the first sheet.
func cellOf(t *testing.T, f *excelize.File, label string) string {
	t.Helper()
	rows, err := f.GetRows(f.GetSheetList()[0])
	require.NoError(t, err)
	for i, r := range rows {
		if len(r) > 1 && r[0] == label {
			c, err := excelize.CoordinatesToCellName(2, i+1)
			require.NoError(t, err)
			return c
		}
	}
	t.Fatalf("no %q on the summary sheet", label)
	return ""
}

// TestQualityStop: a run over a large day stopped through the API ends
// marked stopped, whole, and the next run of the rule runs to the end.
func TestQualityStop(t *testing.T) {
	dir := t.TempDir()
	day := filepath.Join(dir, "data", "2022-06-14")
	require.NoError(t, os.MkdirAll(day, 0o700))
	// 100,000 rows (seconds to check): the shipped rows over and over, with
	// new ids.
	src, err := os.ReadFile("../quality/testdata/data/2022-06-14/source.csv")
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(src)), "\n")
	var big bytes.Buffer
	w := bufio.NewWriter(&big)
	fmt.Fprintln(w, lines[0])
	for i := range 100_000 {
		_, rest, _ := strings.Cut(lines[1+i%(len(lines)-1)], ",")
		fmt.Fprintf(w, "%d,%s\n", i+1, rest)
	}
	require.NoError(t, w.Flush())
	require.NoError(t, os.WriteFile(filepath.Join(day, "source.csv"), big.Bytes(), 0o600))
	rules := filepath.Join(dir, "quality.yaml")
	require.NoError(t, os.WriteFile(rules, []byte(`rules:
  - name: import
    covers: 人口库导入规则 v1
    valid: {from: 2022-01-01}
    datasets:
      source: data/{date}/source.csv
    key: [doc_type, doc_number]
    checks:
      - validate: source
      - non_empty: [name, phone]
        dataset: source
`), 0o600))
	s := start(t, filepath.Join(dir, "srv"), "-quality", rules)
	var run quality.Run
	require.Equal(t, 202, s.do("POST", "/admin/quality/run", rulesAdmin, `{"rule":"import","day":"2022-06-14"}`, &run))
	require.Equal(t, 409, s.do("POST", "/admin/quality/run", rulesAdmin, `{"rule":"import","day":"2022-06-14"}`, nil), "one run of a rule and day at a time")
	var stopped quality.Run
	require.Equal(t, 200, s.do("POST", "/admin/quality/stop", rulesAdmin, fmt.Sprintf(`{"id":%q}`, run.ID), &stopped))
	require.Equal(t, quality.Stopped, stopped.State)
	require.Less(t, len(stopped.Checks), 2, "it stopped before the end")
	require.Equal(t, quality.Stopped, s.waitRun(run.ID).State, "stored as stopped")

	var rerun quality.Run
	require.Equal(t, 202, s.do("POST", "/admin/quality/run", rulesAdmin, `{"rule":"import","day":"2022-06-14"}`, &rerun))
	done := func() quality.Run {
		deadline := time.Now().Add(2 * time.Minute)
		for {
			var r quality.Run
			require.Equal(t, 200, s.do("GET", "/admin/quality/runs/"+rerun.ID, auditor, "", &r))
			if r.State != quality.Running || time.Now().After(deadline) {
				return r
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	require.Equal(t, quality.Done, done.State)
	require.Len(t, done.Checks, 2)
}
