// Command hcsettings compares healthcoded under different settings at fixed
// open-loop lookup rates, the settings interleaved round by round so that
// a slow spell of a shared machine falls on all of them alike. It prints a
// markdown table per rate: the median round's latencies, and every round's
// p99.
//
//	go run ./benchmarks/cmd/hcsettings -rates 18000,21500 \
//	    -set 'gogc100=-gogc 100' -set 'gogc200=-gogc 200' -set 'off=GOGC=off GOMEMLIMIT=256MiB'
//
// A setting is NAME=WORDS: words of the form KEY=VALUE with an upper-case
// KEY go to healthcoded's environment, the others to its command line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/healthcode-sdk/healthcode/benchmarks/loadgen"
	"github.com/healthcode-sdk/healthcode/benchmarks/serverbench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "hcsettings:", err)
		os.Exit(1)
	}
}

// settings collects repeated -set flags.
type settings []serverbench.Setting

func (s *settings) String() string { return fmt.Sprint(len(*s), " settings") }

var envWord = regexp.MustCompile(`^[A-Z][A-Z0-9_]*=`)

func (s *settings) Set(v string) error {
	name, words, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return errors.New(`want NAME=WORDS, e.g. "gogc200=-gogc 200"`)
	}
	st := serverbench.Setting{Name: name}
	for _, w := range strings.Fields(words) {
		if envWord.MatchString(w) {
			st.Env = append(st.Env, w)
		} else {
			st.Args = append(st.Args, w)
		}
	}
	*s = append(*s, st)
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hcsettings", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var set settings
	fs.Var(&set, "set", "a setting NAME=WORDS (repeat; at least one)")
	rates := fs.String("rates", "", "open-loop lookup rates, comma-separated (e.g. 18000,21500)")
	rounds := fs.Int("rounds", 5, "runs of every setting at every rate")
	step := fs.Duration("step", 5*time.Second, "length of one run")
	people := fs.Int("people", 10_000, "demo population, seeded once")
	warm := fs.Duration("warm", 2*time.Second, "closed-loop lookups after each start")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := serverbench.CompareConfig{Settings: set, Rounds: *rounds, Step: *step, DemoPeople: *people, Warm: *warm,
		Progress: func(round int, setting string, r loadgen.Result) {
			fmt.Fprintf(stderr, "round %d %s at %.0f/s: p99 %v, %.0f ok/s\n", round+1, setting, r.Rate, r.P99.Round(10*time.Microsecond), r.Throughput)
		}}
	if *rates == "" {
		return errors.New("-rates: want at least one rate")
	}
	for _, f := range strings.Split(*rates, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return fmt.Errorf("-rates: %q: %w", f, err)
		}
		cfg.Rates = append(cfg.Rates, r)
	}
	if len(set) == 0 {
		return errors.New("-set: want at least one setting")
	}
	res, err := serverbench.CompareSettings(ctx, cfg)
	if err != nil {
		return err
	}
	return report(stdout, cfg, res)
}

func report(w io.Writer, cfg serverbench.CompareConfig, res []serverbench.Comparison) error {
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 2, 64) }
	var b strings.Builder
	fmt.Fprintf(&b, "healthcoded settings, %d rounds of %v each, interleaved round by round.\n", cfg.Rounds, cfg.Step)
	for _, rate := range cfg.Rates {
		fmt.Fprintf(&b, "\n### %.0f lookups/s\n\n| setting | p50 | p99 | p999 | p99 by round (ms) | ok/s |\n|---|--:|--:|--:|---|--:|\n", rate)
		for _, c := range res {
			if c.Rate != rate {
				continue
			}
			var each []string
			for _, r := range c.Rounds {
				each = append(each, ms(r.P99))
			}
			fmt.Fprintf(&b, "| %s | %s ms | %s ms | %s ms | %s | %.0f |\n", c.Setting,
				ms(serverbench.Median(c.Rounds, func(r loadgen.Result) time.Duration { return r.P50 })),
				ms(serverbench.Median(c.Rounds, func(r loadgen.Result) time.Duration { return r.P99 })),
				ms(serverbench.Median(c.Rounds, func(r loadgen.Result) time.Duration { return r.P999 })),
				strings.Join(each, ", "), serverbench.Median(c.Rounds, func(r loadgen.Result) float64 { return r.Throughput }))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
