package synth_test

import (
	"fmt"
	"time"

	"github.com/healthcode-sdk/healthcode/internal/synth"
)

func ExampleCheckDigit() {
	// The worked example of GB 11643-1999.
	fmt.Println(string(synth.CheckDigit("11010519491231002")))
	// Output: X
}

func ExampleUpgrade15() {
	fmt.Println(synth.Upgrade15("110105491231002"))
	// Output: 11010519491231002X
}

func ExampleGen_People() {
	g := synth.New(1)
	valid := 0
	people := g.People(1000)
	for _, p := range people {
		if p.ResidentID == "" || synth.ValidID(p.ResidentID) {
			valid++
		}
	}
	same := synth.New(1).People(1000)[999].DocNumber == people[999].DocNumber
	fmt.Println(len(people), valid, same)
	// Output: 1000 1000 true
}

func ExampleGen_Scans() {
	start := time.Date(2022, 6, 1, 0, 0, 0, 0, synth.CST())
	scans := synth.New(1).Scans(synth.ScanConfig{Persons: 100, Venues: 10, Days: 2, PerDay: 500, Start: start})
	first, last := time.Unix(scans[0].Time, 0), time.Unix(scans[len(scans)-1].Time, 0)
	fmt.Println(len(scans), !first.Before(start), last.Before(start.AddDate(0, 0, 2)))
	// Output: 1000 true true
}

func ExampleGen_Registry() {
	recs, truth := synth.New(1).Registry(synth.RegistryConfig{Records: 1000, DupRate: 0.1, NoiseRate: 0.2})
	fmt.Println(len(recs), len(truth.Duplicates) > 0, len(truth.Suspicious))
	// Output: 1000 true 0
}

func ExampleGen_Incidents() {
	incs := synth.New(1).Incidents(synth.IncidentConfig{N: 3})
	for _, inc := range incs {
		fmt.Println(inc.ID, inc.Events[0].Kind, inc.Events[len(inc.Events)-1].Kind)
	}
	// Output:
	// INC-000001 opened resolved
	// INC-000002 opened resolved
	// INC-000003 opened resolved
}

func ExampleLookupRegion() {
	r, ok := synth.LookupRegion("510104")
	fmt.Println(r.Name(), ok)
	// Output: 四川省成都市锦江区 true
}

func ExampleGen_Venues() {
	vs := synth.New(1).Venues(100)
	sum := 0.0
	for _, v := range vs {
		sum += v.Weight
	}
	// The most popular venue is rank 0, which is ID 0.
	fmt.Println(len(vs), vs[0].Weight > vs[1].Weight, fmt.Sprintf("%.6f", sum))
	// Output: 100 true 1.000000
}

func ExampleGen_ScanSeq() {
	n := 0
	for s := range synth.New(1).ScanSeq(synth.ScanConfig{Persons: 10, Venues: 5, Days: 3, PerDay: 1000}) {
		if s.Venue < 5 {
			n++
		}
	}
	fmt.Println(n)
	// Output: 3000
}

func ExampleGen_RegistrySeq() {
	copies := 0
	for rec, truth := range synth.New(1).RegistrySeq(synth.RegistryConfig{Records: 1000, DupRate: 0.2}) {
		if truth.Cluster != rec.ID {
			copies++ // a later copy of record truth.Cluster
		}
	}
	fmt.Println(copies > 100, copies < 300)
	// Output: true true
}

func ExampleGen_Trips() {
	trips := synth.New(1).Trips(synth.TripConfig{Trips: 10, Persons: 100})
	_, rows, letters := synth.ModePlane.Layout()
	fmt.Println(len(trips), rows, letters)
	// Output: 10 40 ABCDEF
}

func ExampleGen_Health() {
	now := time.Date(2022, 9, 1, 10, 0, 0, 0, synth.CST())
	g := synth.New(1)
	areas := g.RiskAreas(5, now)
	h := g.Health(now)
	fmt.Println(len(areas), h.VaccineDoses >= 0, len(h.Tests) <= 4)
	// Output: 5 true true
}

func ExampleGen_Outages() {
	outs := synth.New(1).Outages(synth.OutageConfig{N: 4})
	ordered := true
	for i := 1; i < len(outs); i++ {
		ordered = ordered && outs[i].Start.After(outs[i-1].End)
	}
	fmt.Println(len(outs), ordered)
	// Output: 4 true
}
