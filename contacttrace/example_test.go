package contacttrace_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/healthcode-sdk/healthcode/contacttrace"
)

var cst = time.FixedZone("CST", 8*3600)

func at(hh, mm int) int64 { return time.Date(2022, 1, 5, hh, mm, 0, 0, cst).Unix() }

// Persons and venues are dense ids the caller maps to its own records.
func exampleScans() []contacttrace.Scan {
	return []contacttrace.Scan{
		{Person: 0, Venue: 10, Time: at(12, 0)},  // the index case, at a restaurant
		{Person: 1, Venue: 10, Time: at(10, 0)},  // exactly 2 h before: a contact
		{Person: 2, Venue: 10, Time: at(9, 59)},  // 2 h 1 min before: not
		{Person: 3, Venue: 10, Time: at(13, 30)}, // within 2 h after
		{Person: 3, Venue: 20, Time: at(18, 0)},  // 3 goes on to a cinema
		{Person: 4, Venue: 20, Time: at(18, 40)}, // and meets 4 there
	}
}

func Example_build() {
	ctx := context.Background()
	ix, err := contacttrace.Build(ctx, exampleScans(), contacttrace.Config{})
	if err != nil {
		panic(err)
	}
	fmt.Println(ix.Len(), "scans,", ix.NumVenues(), "venue ids,", ix.NumPersons(), "person ids")
	for _, s := range ix.VenueScans(nil, 10, time.Date(2022, 1, 5, 10, 0, 0, 0, cst), time.Date(2022, 1, 5, 12, 0, 0, 0, cst)) {
		fmt.Println("venue 10:", s.Person, time.Unix(s.Time, 0).In(cst).Format("15:04"))
	}

	// A new day is merged into a new index; a snapshot reloads it.
	ix, err = ix.Append(ctx, []contacttrace.Scan{{Person: 5, Venue: 10, Time: at(12, 0) + 86400}}, contacttrace.Config{})
	if err != nil {
		panic(err)
	}
	var snap bytes.Buffer
	if _, err := ix.WriteTo(&snap); err != nil {
		panic(err)
	}
	loaded, err := contacttrace.ReadIndex(&snap)
	if err != nil {
		panic(err)
	}
	fmt.Println("after a day and a snapshot:", loaded.Len(), "scans")
	// Output:
	// 6 scans, 21 venue ids, 5 person ids
	// venue 10: 1 10:00
	// venue 10: 0 12:00
	// after a day and a snapshot: 7 scans
}

func ExampleTracer_Trace() {
	ctx := context.Background()
	ix, _ := contacttrace.Build(ctx, exampleScans(), contacttrace.Config{})
	tr, _ := contacttrace.NewTracer(ix, nil, contacttrace.Config{})
	res, err := tr.Trace(ctx, contacttrace.Query{
		Cases:  []uint32{0},
		Before: 2 * time.Hour, After: 2 * time.Hour,
		Depth: 2,
	})
	if err != nil {
		panic(err)
	}
	for _, c := range res.Contacts {
		fmt.Printf("hop %d: person %d at venue %d %s, via person %d\n",
			c.Hop, c.Person, c.Venue, time.Unix(c.Time, 0).In(cst).Format("15:04"), c.Via)
	}
	// Output:
	// hop 1: person 1 at venue 10 10:00, via person 0
	// hop 1: person 3 at venue 10 13:30, via person 0
	// hop 2: person 2 at venue 10 09:59, via person 1
	// hop 2: person 4 at venue 20 18:40, via person 3
}

func ExampleNationalPlan() {
	ctx := context.Background()
	day := time.Date(2022, 1, 5, 0, 0, 0, 0, cst)
	trips, err := contacttrace.NewTrips([]contacttrace.Trip{{
		Mode: contacttrace.ModePlane, Number: "CA4193", Date: day,
		Passengers: []contacttrace.Seat{
			{Person: 1, Row: 12, Seat: 'A'}, {Person: 2, Row: 15, Seat: 'F'},
			{Person: 3, Row: 16, Seat: 'C'}, {Person: 4, Row: 9, Seat: 'B'},
		},
	}}, contacttrace.Config{})
	if err != nil {
		panic(err)
	}
	tr, _ := contacttrace.NewTracer(nil, trips, contacttrace.Config{})
	// The report names the flight and the case's seat; the plan's plane
	// rule takes the same row and 3 rows either side.
	res, err := tr.Trace(ctx, contacttrace.Query{
		Trips:     []contacttrace.TripRef{{Mode: contacttrace.ModePlane, Number: "CA4193", Date: day, Row: 12, Seat: 'C'}},
		Proximity: contacttrace.NationalPlan(),
	})
	if err != nil {
		panic(err)
	}
	for _, c := range res.Contacts {
		seat, _ := trips.Seat(c)
		fmt.Printf("person %d in row %d%c\n", c.Person, seat.Row, seat.Seat)
	}
	// Output:
	// person 1 in row 12A
	// person 2 in row 15F
	// person 4 in row 9B
}

func ExampleTracer_RunTask() {
	ctx := context.Background()
	ix, _ := contacttrace.Build(ctx, exampleScans(), contacttrace.Config{})
	tr, _ := contacttrace.NewTracer(ix, nil, contacttrace.Config{})
	first, err := tr.RunTask(ctx, "task-1", contacttrace.Query{
		Visits: []contacttrace.Visit{{Venue: 10, From: time.Date(2022, 1, 5, 9, 50, 0, 0, cst), To: time.Date(2022, 1, 5, 10, 10, 0, 0, cst)}},
	})
	if err != nil {
		panic(err)
	}
	// The second task excludes everyone the first identified (1 and 2).
	second, err := tr.RunTask(ctx, "task-2", contacttrace.Query{
		Cases: []uint32{0}, Before: 3 * time.Hour, After: 2 * time.Hour,
	}, first)
	if err != nil {
		panic(err)
	}
	for _, task := range []*contacttrace.Task{first, second} {
		fmt.Print(task.ID, ":")
		for _, c := range task.Result.Contacts {
			fmt.Print(" ", c.Person)
		}
		fmt.Println()
	}
	// Output:
	// task-1: 2 1
	// task-2: 3
}

func ExampleVenueNames_Search() {
	names := []contacttrace.VenueName{
		{ID: 1, Name: "成都市锦江区春熙路太古里星巴克咖啡3号店"},
		{ID: 2, Name: "成都市锦江区春熙路伊藤洋华堂"},
		{ID: 3, Name: "成都市武侯区太古里附近火锅"},
		{ID: 4, Name: "绵阳市涪城区临园路麦当劳"},
	}
	vn, err := contacttrace.NewVenueNames(context.Background(), names, contacttrace.Config{})
	if err != nil {
		panic(err)
	}
	// Partial and out of order, as an epidemiological report gives it:
	// 2 points per matching bigram, 2 per whole term, 4 for all terms;
	// ties go to the shorter name.
	for _, m := range vn.Search("太古里 春熙路", 3) {
		fmt.Println(m.ID, m.Name, m.Score)
	}
	// Output:
	// 1 成都市锦江区春熙路太古里星巴克咖啡3号店 16
	// 3 成都市武侯区太古里附近火锅 6
	// 2 成都市锦江区春熙路伊藤洋华堂 6
}

func ExampleTracer_TraceBatch() {
	ctx := context.Background()
	ix, _ := contacttrace.Build(ctx, exampleScans(), contacttrace.Config{})
	tr, _ := contacttrace.NewTracer(ix, nil, contacttrace.Config{})
	results, err := tr.TraceBatch(ctx, []contacttrace.Query{
		{Cases: []uint32{0}, After: 2 * time.Hour},
		{Cases: []uint32{4}, Before: time.Hour},
	})
	if err != nil {
		panic(err)
	}
	for i, r := range results {
		fmt.Printf("case %d: %d contacts\n", i, len(r.Contacts))
	}
	// Output:
	// case 0: 1 contacts
	// case 1: 1 contacts
}

// Segments keeps a day per segment: appending a day builds that day alone,
// and a tracer over the segments answers as over one index, here across
// midnight.
func ExampleSegments() {
	ctx := context.Background()
	cst := time.FixedZone("CST", 8*3600)
	at := func(day, h, m int) int64 { return time.Date(2022, 5, day, h, m, 0, 0, cst).Unix() }
	segs := contacttrace.NewSegments(contacttrace.SegmentConfig{Location: cst})
	segs, _ = segs.Append(ctx, []contacttrace.Scan{
		{Person: 1, Venue: 7, Time: at(14, 23, 30)}, // the case, late on the 14th
		{Person: 2, Venue: 7, Time: at(14, 22, 0)},
	}, contacttrace.Config{})
	segs, _ = segs.Append(ctx, []contacttrace.Scan{
		{Person: 3, Venue: 7, Time: at(15, 0, 40)}, // after midnight, within the window
		{Person: 4, Venue: 7, Time: at(15, 9, 0)},
	}, contacttrace.Config{})
	tr, _ := contacttrace.NewSegmentTracer(segs, nil, contacttrace.Config{})
	res, _ := tr.Trace(ctx, contacttrace.Query{Cases: []uint32{1}, Before: 2 * time.Hour, After: 2 * time.Hour})
	fmt.Println(len(segs.Days()), "days,", segs.Len(), "scans")
	for _, c := range res.Contacts {
		fmt.Println("person", c.Person, "at", time.Unix(c.Time, 0).In(cst).Format("01-02 15:04"))
	}
	// Output:
	// 2 days, 4 scans
	// person 2 at 05-14 22:00
	// person 3 at 05-15 00:40
}
