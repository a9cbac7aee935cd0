package bulkbench

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Markdown writes the results of one Run with cfg as two tables: the
// summary, each engine's figures and their speed against bbolt-sorted's
// (boltstore's path today, without its log; else boltstore's own; else the
// first engine's), and the load's throughput a tenth.
func Markdown(w io.Writer, cfg Config, rs []Result) error {
	cfg = cfg.withDefaults()
	if len(rs) == 0 {
		return nil
	}
	base := rs[0]
	for _, name := range []string{"boltstore", "bbolt-sorted"} {
		for _, r := range rs {
			if r.Engine == name {
				base = r
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## codes/bulk-engines\n\n")
	reeval := fmt.Sprintf("reading and rewriting a random %.0f %% of them", cfg.Reeval*100)
	if cfg.ReevalAll {
		reeval = fmt.Sprintf("deciding every key, a random %.0f %% of them changed, no old value read first", cfg.Reeval*100)
	}
	fmt.Fprintf(&b, "%d random 16-byte keys with %d-byte values loaded in batches of %d, each synced; then a re-evaluation %s; %d keys read back after it.\n\n",
		cfg.Keys, cfg.ValueSize, cfg.Batch, reeval, cfg.Check)
	fmt.Fprintf(&b, "| engine | load | keys/s | first 10 %% keys/s | last 10 %% keys/s | last/first | spill | re-eval keys | re-eval | files (on disk) | peak RSS | load speed vs %s | re-eval speed vs %s |\n",
		base.Engine, base.Engine)
	fmt.Fprintf(&b, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range rs {
		fmt.Fprintf(&b, "| %s | %v | %s | %s | %s | %.2fx | %v | %d | %v | %s (%s) | %s | %.2fx | %.2fx |\n",
			r.Engine, r.Load.Round(time.Millisecond), rate(float64(r.Keys)/r.Load.Seconds()),
			rate(r.TenthRate(0)), rate(r.TenthRate(9)), r.Steadiness(), r.Spill.Round(time.Millisecond),
			r.ReevalKeys, r.Reeval.Round(time.Millisecond), size(r.FileBytes), size(r.DiskBytes), size(r.PeakRSS),
			base.Load.Seconds()/r.Load.Seconds(), base.Reeval.Seconds()/r.Reeval.Seconds())
	}
	fmt.Fprintf(&b, "\nLoad throughput a tenth of the keys (keys/s; bbolt-merge and boltstore-load: of the commits in key order, after the sort):\n\n")
	fmt.Fprintf(&b, "| engine | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range rs {
		fmt.Fprintf(&b, "| %s |", r.Engine)
		for t := range 10 {
			fmt.Fprintf(&b, " %s |", rate(r.TenthRate(t)))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func rate(x float64) string {
	switch {
	case x >= 1e6:
		return fmt.Sprintf("%.2fM", x/1e6)
	case x >= 1e3:
		return fmt.Sprintf("%.1fk", x/1e3)
	}
	return fmt.Sprintf("%.0f", x)
}

func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", n>>10)
}
