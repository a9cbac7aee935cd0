package console

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// FuzzFinderForm: any form body is either refused field by field or read
// into a query within the form's limits; the identity typed in is never
// kept in the fields echoed back.
func FuzzFinderForm(f *testing.F) {
	f.Add("id=11010519491231002X&before=120&after=120&depth=2&search=all&proximity=plan")
	f.Add("venue=v1&vname_v1=x&from_v1=2022-05-14T09:00&to_v1=2022-05-14T08:00&search=venues&proximity=plan")
	f.Add("phone=13800138000&mode_0=plane&number_0=CA1&day_0=2022-05-14&row_0=12&seat_0=c&search=trips&proximity=whole_trip")
	f.Add("name=%E4%BB%BB%E5%8A%A1&exclude=T1&exclude=T2&max_per_window=-1&depth=9")
	f.Add("venue=v1&venue=v1&visit_from=2022-05-14T09:00&visit_to=2022-05-14T11:00&car_1=3&day_2=x")
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/console/finder", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if err := r.ParseForm(); err != nil {
			return
		}
		q := &request{lang: "en", T: labels["en"]}
		page := formPage(r)
		fq, ok := parseFinder(r, q, &page)
		if _, kept := page.Form["id"]; kept {
			t.Fatal("the document number is kept to be echoed back")
		}
		if _, kept := page.Form["phone"]; kept {
			t.Fatal("the phone is kept to be echoed back")
		}
		if !ok {
			if len(page.Errors) == 0 {
				t.Fatal("refused without a field error")
			}
			return
		}
		switch {
		case fq.Depth < 1 || fq.Depth > maxFinderDepth:
			t.Fatalf("depth %d", fq.Depth)
		case fq.Before < 0 || fq.After < 0 || fq.MaxPerWindow < 0 || fq.MaxPerHop < 0:
			t.Fatalf("negative window or cap: %+v", fq)
		case fq.Who == (Who{}) && len(fq.Visits) == 0 && len(fq.Trips) == 0:
			t.Fatal("a query with no case, visit or trip")
		case len(fq.Visits) > maxChosenVenues:
			t.Fatalf("%d visits", len(fq.Visits))
		case identityLike.MatchString(fq.Name):
			t.Fatalf("name %q holds an identity", fq.Name)
		}
		for _, v := range fq.Visits {
			if v.From.IsZero() || v.To.Before(v.From) {
				t.Fatalf("visit %+v", v)
			}
		}
		for _, tr := range fq.Trips {
			if !slices.Contains(tripModes, tr.Mode) || tr.Day.IsZero() || len(tr.Seat) > 1 {
				t.Fatalf("trip %+v", tr)
			}
		}
	})
}
