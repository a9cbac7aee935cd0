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
