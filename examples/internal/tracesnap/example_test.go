package tracesnap_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/healthcode-sdk/healthcode/contacttrace"
	"github.com/healthcode-sdk/healthcode/examples/internal/cli"
	"github.com/healthcode-sdk/healthcode/examples/internal/tracesnap"
)

// Ingest a scans CSV into a snapshot directory (a file per day, the id
// maps and a MANIFEST), load it back and map a dense id to the caller's id.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "tracesnap")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	const scansCSV = "person,venue,time\n" +
		"P001,V-TGL,2022-01-05 10:00\n" +
		"P002,V-TGL,2022-01-05 08:00\n" +
		"P002,V-CXL,2022-01-05 14:00\n"
	t, err := cli.OpenTable("scans.csv", strings.NewReader(scansCSV), []string{"person", "venue", "time"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	s := tracesnap.New(21) // days kept
	scans, err := tracesnap.ReadScans(ctx, t, s, nil)
	if err != nil {
		log.Fatal(err)
	}
	if s.Segments, err = s.Segments.Append(ctx, scans, contacttrace.Config{}); err != nil {
		log.Fatal(err)
	}
	path := filepath.Join(dir, "case.snap")
	if _, err := s.Save(path); err != nil {
		log.Fatal(err)
	}
	files, err := os.ReadDir(path)
	if err != nil {
		log.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name())
	}
	fmt.Println(strings.Join(names, " "))

	loaded, err := tracesnap.Load(path)
	if err != nil {
		log.Fatal(err)
	}
	p, _ := loaded.PersonID("P002")
	_, ok := loaded.PersonID("P404")
	fmt.Println(loaded.Segments.Len(), "scans of", loaded.Persons, "at", loaded.Venues)
	fmt.Printf("P002 is dense person %d; P404 known: %v\n", p, ok)
	day, err := tracesnap.ParseTime("2022-01-05") // midnight, UTC+8
	if err != nil {
		log.Fatal(err)
	}
	for _, sc := range loaded.Segments.PersonScans(nil, p, day, day.AddDate(0, 0, 1)) {
		fmt.Println(loaded.Persons[sc.Person], loaded.Venues[sc.Venue])
	}
	// Output:
	// 2022-01-05.3.hct MANIFEST persons.csv trips.csv venues.csv
	// 3 scans of [P001 P002] at [V-TGL V-CXL]
	// P002 is dense person 1; P404 known: false
	// P002 V-TGL
	// P002 V-CXL
}
