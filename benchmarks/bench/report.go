package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// references returns the baselines and peers of one workload's results.
func references(rs []Result) []Result {
	var out []Result
	for _, r := range rs {
		if r.Role != Primary {
			out = append(out, r)
		}
	}
	return out
}

// groups splits results by workload, keeping first-seen order.
func groups(rs []Result) [][]Result {
	var out [][]Result
	idx := map[string]int{}
	for _, r := range rs {
		i, ok := idx[r.Workload]
		if !ok {
			i = len(out)
			idx[r.Workload] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], r)
	}
	return out
}

// Ratio returns how many times faster a is than b in operations per second
// (a.OpsPerSec / b.OpsPerSec); 0 when b has no throughput.
func Ratio(a, b Result) float64 {
	if b.OpsPerSec == 0 {
		return 0
	}
	return a.OpsPerSec / b.OpsPerSec
}

// Markdown writes the report as a markdown document: a header with the
// machine, then one table per workload with ops/s, ns/op, allocations and
// the ratio of each subject to every baseline and peer of that workload,
// then any quality metrics.
func (rep Report) Markdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# healthcode benchmarks\n\n")
	fmt.Fprintf(&b, "%s %s/%s, GOMAXPROCS=%d, NumCPU=%d, started %s.\n",
		rep.GoVersion, rep.GOOS, rep.GOARCH, rep.GOMAXPROCS, rep.NumCPU,
		rep.Started.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Ratios are ops/s of the row's subject divided by ops/s of the named subject, measured in this run.\n")
	for _, g := range groups(rep.Results) {
		fmt.Fprintf(&b, "\n## %s\n\n", g[0].Workload)
		if d := rep.Docs[g[0].Workload]; d != "" {
			fmt.Fprintf(&b, "%s\n\n", d)
		}
		refs := references(g)
		fmt.Fprintf(&b, "| subject | role | %s/s | ns/op | allocs/op | B/op | n |", g[0].Unit)
		for _, r := range refs {
			fmt.Fprintf(&b, " vs %s |", r.Subject)
		}
		b.WriteString("\n|---|---|--:|--:|--:|--:|--:|")
		b.WriteString(strings.Repeat("--:|", len(refs)))
		b.WriteString("\n")
		for _, r := range g {
			name := r.Subject
			if r.Parallel {
				name += " (parallel)"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %.1f | %s | %d |", name, r.Role,
				human(r.OpsPerSec), human(r.NsPerOp), r.AllocsPerOp, human(r.BytesPerOp), r.N)
			for _, ref := range refs {
				if ref.Subject == r.Subject {
					b.WriteString(" - |")
					continue
				}
				fmt.Fprintf(&b, " %s |", ratio(Ratio(r, ref)))
			}
			b.WriteString("\n")
		}
		var metrics []string
		for _, r := range g {
			for _, m := range r.Metrics {
				metrics = append(metrics, fmt.Sprintf("- %s: %s = %s %s", r.Subject, m.Name, human(m.Value), m.Unit))
			}
		}
		if len(metrics) > 0 {
			fmt.Fprintf(&b, "\n%s\n", strings.Join(metrics, "\n"))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// JSON writes the report as indented JSON.
func (rep Report) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// human formats a number with three significant figures and no exponent
// for the sizes benchmarks produce.
func human(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 1e9:
		return fmt.Sprintf("%.2fG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.4f", v)
	}
}

// ratio formats a speed ratio with enough digits to read small ones.
func ratio(v float64) string {
	switch {
	case v >= 10:
		return fmt.Sprintf("%.1fx", v)
	case v >= 0.1:
		return fmt.Sprintf("%.2fx", v)
	default:
		return fmt.Sprintf("%.3fx", v)
	}
}
