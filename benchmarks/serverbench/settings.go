package serverbench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/healthcode-sdk/healthcode/benchmarks/loadgen"
)

// Setting is one way of running healthcoded in CompareSettings.
type Setting struct {
	Name string
	Args []string // flags added to healthcoded's command line (-gogc 200)
	Env  []string // KEY=VALUE added to its environment (GOMEMLIMIT=256MiB)
}

// CompareConfig says what CompareSettings runs.
type CompareConfig struct {
	Settings   []Setting
	Rates      []float64     // open-loop lookup rates, each run under every setting
	Rounds     int           // runs of every setting at every rate; default 5
	Step       time.Duration // length of one run; default 5 s, its first tenth (at most 0.5 s) warm-up
	DemoPeople int           // population seeded once and shared; default 10 000
	Warm       time.Duration // closed-loop lookups after each start, before the rates; default 2 s
	// Progress, if set, is called after every run.
	Progress func(round int, setting string, r loadgen.Result)
}

// Comparison is one setting at one rate: a result per round, in order.
type Comparison struct {
	Setting string
	Rate    float64
	Rounds  []loadgen.Result
}

// Median is the median over rounds of f (the upper middle one of an even
// count; zero for none): how the ramp and CompareSettings summarise their
// rounds.
func Median[T cmp.Ordered](rounds []loadgen.Result, f func(loadgen.Result) T) T {
	v := make([]T, len(rounds))
	for i, r := range rounds {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v) == 0 {
		var zero T
		return zero
	}
	return v[len(v)/2]
}

// CompareSettings runs healthcoded under each setting at each rate, Rounds
// times, the settings interleaved round by round (A B A B ...): on a
// shared machine whose speed drifts over minutes, a slow spell then falls
// on every setting alike, where running all of A and then all of B puts
// it on one. Each round starts a fresh server process over one data
// directory seeded once. Results come setting by setting, rate by rate,
// in cfg's order.
func CompareSettings(ctx context.Context, cfg CompareConfig) ([]Comparison, error) {
	if len(cfg.Settings) == 0 || len(cfg.Rates) == 0 {
		return nil, errors.New("serverbench: CompareSettings needs settings and rates")
	}
	for _, r := range cfg.Rates {
		if r <= 0 {
			return nil, fmt.Errorf("serverbench: rate %v: want a positive rate", r)
		}
	}
	cfg.Rounds = cmp.Or(cfg.Rounds, 5)
	cfg.Step = cmp.Or(cfg.Step, 5*time.Second)
	cfg.DemoPeople = cmp.Or(cfg.DemoPeople, 10_000)
	cfg.Warm = cmp.Or(cfg.Warm, 2*time.Second)
	bins := &binaries{}
	base := Config{DemoPeople: cfg.DemoPeople}
	seed, err := startHealthcoded(ctx, bins, base, "")
	if err != nil {
		return nil, err
	}
	data := seed.data
	defer os.RemoveAll(data)
	if err := seed.p.stop(); err != nil {
		return nil, fmt.Errorf("seeding server: %w", err)
	}
	out := make([]Comparison, 0, len(cfg.Settings)*len(cfg.Rates))
	for _, s := range cfg.Settings {
		for _, r := range cfg.Rates {
			out = append(out, Comparison{Setting: s.Name, Rate: r})
		}
	}
	for round := range cfg.Rounds {
		for si, s := range cfg.Settings {
			res, err := runSetting(ctx, bins, base, data, s, cfg)
			if err != nil {
				return nil, fmt.Errorf("setting %s, round %d: %w", s.Name, round+1, err)
			}
			for ri, r := range res {
				c := &out[si*len(cfg.Rates)+ri]
				c.Rounds = append(c.Rounds, r)
				if cfg.Progress != nil {
					cfg.Progress(round, s.Name, r)
				}
			}
		}
	}
	return out, nil
}

// runSetting starts one server under s, warms it and runs every rate.
func runSetting(ctx context.Context, bins *binaries, base Config, data string, s Setting, cfg CompareConfig) ([]loadgen.Result, error) {
	base.Env = s.Env
	t, err := startHealthcoded(ctx, bins, base, data, append(slices.Clone(unlimited), s.Args...)...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = t.p.stop() }()
	if _, err := t.capacity(ctx, rampConns, cfg.Warm); err != nil {
		return nil, err
	}
	res := make([]loadgen.Result, 0, len(cfg.Rates))
	for _, rate := range cfg.Rates {
		lc := t.lookupLoad(rate, rampConns, 0, cfg.Step)
		lc.Warmup = warmup(cfg.Step)
		r, err := loadgen.Run(ctx, lc)
		if err != nil {
			return nil, err
		}
		if r.Failed > 0 {
			return nil, fmt.Errorf("at %.0f/s %d failed: %s", rate, r.Failed, r.FirstError)
		}
		res = append(res, r)
	}
	return res, nil
}
