// Package synthbench holds the workload benchmarks of internal/synth: how
// fast the synthetic data that every other benchmark is built on can be
// produced, against plain random filling of the same structures.
package synthbench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/healthcode-sdk/healthcode/benchmarks/bench"
	"github.com/healthcode-sdk/healthcode/internal/synth"
)

// sizes of the populations scans and records are drawn over.
type sizes struct {
	persons, venues int
}

func sizesFor(s bench.Scale) sizes {
	if s == bench.Full {
		// Sichuan's platform: 114 M users, 5.2 M venue codes; a tenth of
		// the users keeps the person alias table in cache-sized bounds.
		return sizes{persons: 10_000_000, venues: 5_200_000}
	}
	return sizes{persons: 10_000, venues: 1_000}
}

var start = time.Date(2022, 6, 1, 0, 0, 0, 0, synth.CST())

// Workloads returns the synth workloads at scale s.
func Workloads(s bench.Scale) []bench.Workload {
	sz := sizesFor(s)
	return []bench.Workload{
		{
			Name: "synth/scans",
			Unit: "scan",
			Doc: fmt.Sprintf("one day of venue scans over %d people and %d venues: synth.Scans (daily rhythm, Zipf venues, time order) vs the same []Scan filled with uniform random values",
				sz.persons, sz.venues),
			Subjects: []bench.Subject{
				{Name: "synth.Scans", Role: bench.Primary, Setup: func(context.Context) (bench.Runner, error) {
					return &scansRunner{g: synth.New(1), sz: sz}, nil
				}},
				{Name: "uniform-fill", Role: bench.Baseline, Setup: func(context.Context) (bench.Runner, error) {
					return &uniformRunner{r: rand.New(rand.NewPCG(1, 2)), sz: sz}, nil
				}},
			},
		},
		{
			Name: "synth/registry",
			Unit: "record",
			Doc:  "registry rows with 5 % duplicates, 2 % near-duplicates, 10 % noise and ground truth: synth.Registry vs rows of random digits and a fixed name list",
			Subjects: []bench.Subject{
				{Name: "synth.Registry", Role: bench.Primary, Setup: func(context.Context) (bench.Runner, error) {
					return &registryRunner{g: synth.New(1)}, nil
				}},
				{Name: "plain-rows", Role: bench.Baseline, Setup: func(context.Context) (bench.Runner, error) {
					return &plainRowsRunner{r: rand.New(rand.NewPCG(1, 2))}, nil
				}},
			},
		},
	}
}

// checkScans verifies ranges, the window and (if sorted) the time order.
func checkScans(scans []synth.Scan, n int, sz sizes, sorted bool) error {
	if len(scans) != n {
		return fmt.Errorf("%w: %d scans, want %d", bench.ErrWrongAnswer, len(scans), n)
	}
	lo, hi := start.Unix(), start.Unix()+86400
	prev := lo
	for i, s := range scans {
		if int(s.Person) >= sz.persons || int(s.Venue) >= sz.venues || s.Time < lo || s.Time >= hi {
			return fmt.Errorf("%w: scan %d out of range: %+v", bench.ErrWrongAnswer, i, s)
		}
		if sorted && s.Time < prev {
			return fmt.Errorf("%w: scan %d out of time order", bench.ErrWrongAnswer, i)
		}
		prev = s.Time
	}
	return nil
}

type scansRunner struct {
	g     *synth.Gen
	sz    sizes
	last  []synth.Scan
	total int
}

func (r *scansRunner) Run(ctx context.Context, n int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	scans := r.g.Scans(synth.ScanConfig{Persons: r.sz.persons, Venues: r.sz.venues, Days: 1, PerDay: n, Start: start})
	if err := checkScans(scans, n, r.sz, true); err != nil {
		return err
	}
	if len(scans) >= len(r.last) {
		r.last = scans
	}
	r.total += n
	return nil
}

// Metrics reports the realism the primary pays for, from the largest run:
// the share of scans at the top 1 % of venues and the ratio of the busiest
// hour to the quietest.
func (r *scansRunner) Metrics() []bench.Metric {
	if len(r.last) < 1000 {
		return nil
	}
	per := make([]int, r.sz.venues)
	var hours [24]int
	for _, s := range r.last {
		per[s.Venue]++
		hours[(s.Time-start.Unix())/3600]++
	}
	slices.Sort(per)
	slices.Reverse(per)
	top := 0
	for _, c := range per[:max(1, len(per)/100)] {
		top += c
	}
	quiet := max(slices.Min(hours[:]), 1)
	return []bench.Metric{
		{Name: "top 1% venues share", Value: float64(top) / float64(len(r.last)), Unit: "ratio"},
		{Name: "peak/quiet hour", Value: float64(slices.Max(hours[:])) / float64(quiet), Unit: "ratio"},
	}
}

type uniformRunner struct {
	r  *rand.Rand
	sz sizes
}

func (u *uniformRunner) Run(ctx context.Context, n int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	scans := make([]synth.Scan, n)
	base := start.Unix()
	for i := range scans {
		scans[i] = synth.Scan{
			Person: uint32(u.r.IntN(u.sz.persons)),
			Venue:  uint32(u.r.IntN(u.sz.venues)),
			Time:   base + u.r.Int64N(86400),
		}
	}
	return checkScans(scans, n, u.sz, false)
}

type registryRunner struct {
	g *synth.Gen
}

func (r *registryRunner) Run(ctx context.Context, n int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	recs, truth := r.g.Registry(synth.RegistryConfig{Records: n, DupRate: 0.05, SuspiciousRate: 0.02, NoiseRate: 0.1, Start: start})
	if len(recs) != n {
		return fmt.Errorf("%w: %d records, want %d", bench.ErrWrongAnswer, len(recs), n)
	}
	for _, groups := range [][][]int64{truth.Duplicates, truth.Suspicious} {
		for _, g := range groups {
			if len(g) < 2 || g[0] < 1 || g[len(g)-1] > int64(n) {
				return fmt.Errorf("%w: bad truth group %v", bench.ErrWrongAnswer, g)
			}
		}
	}
	return nil
}

type plainRowsRunner struct {
	r *rand.Rand
}

var plainNames = []string{"张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄勇"}

func (p *plainRowsRunner) Run(ctx context.Context, n int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	recs := make([]synth.Record, n)
	t := start
	for i := range recs {
		t = t.Add(time.Duration(1+p.r.IntN(40)) * time.Second)
		doc := make([]byte, 0, 18)
		for range 18 {
			doc = append(doc, byte('0'+p.r.IntN(10)))
		}
		recs[i] = synth.Record{
			ID:         int64(i + 1),
			Name:       plainNames[p.r.IntN(len(plainNames))],
			DocType:    "身份证",
			DocNumber:  string(doc),
			Birth:      time.Date(1930+p.r.IntN(93), time.Month(1+p.r.IntN(12)), 1+p.r.IntN(28), 0, 0, 0, 0, time.UTC).Format("2006-01-02"),
			Sex:        "男",
			Ethnicity:  "汉",
			Phone:      "138" + strconv.Itoa(10000000+p.r.IntN(90000000)),
			Registered: t,
			Updated:    t,
		}
	}
	if len(recs) != n || (n > 0 && recs[n-1].ID != int64(n)) {
		return fmt.Errorf("%w: %d rows", bench.ErrWrongAnswer, len(recs))
	}
	return nil
}
