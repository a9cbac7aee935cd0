package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/healthcode-sdk/healthcode/dedupe"
)

// The review queue file is a JSON array of groups. The dedupe package's
// types carry no JSON tags (and ReviewKind has no UnmarshalText), so the
// CLI defines the file's shape and converts both ways.

type reviewJSON struct {
	ID          string       `json:"id"`
	Kind        string       `json:"kind"` // suspicious or conflict
	Proposed    int64        `json:"proposed"`
	AutoDropped []int64      `json:"auto_dropped,omitempty"`
	Records     []recordJSON `json:"records"`
	Diffs       []diffJSON   `json:"diffs"`
}

type recordJSON struct {
	ID         int64               `json:"id"`
	Name       string              `json:"name"`
	DocType    string              `json:"doc_type"`
	DocNumber  string              `json:"doc_number"`
	Birth      string              `json:"birth"`
	Sex        string              `json:"sex,omitempty"`
	Ethnicity  string              `json:"ethnicity,omitempty"`
	Address    string              `json:"address,omitempty"`
	Phone      string              `json:"phone,omitempty"`
	Source     string              `json:"source,omitempty"`
	Registered time.Time           `json:"registered,omitzero"`
	Updated    time.Time           `json:"updated,omitzero"`
	Extra      []dedupe.ExtraField `json:"extra,omitempty"`
}

type diffJSON struct {
	Field      dedupe.Field `json:"field"`
	Values     []string     `json:"values"`
	Similarity []float64    `json:"similarity"`
	Min        float64      `json:"min"`
}

func toReviewJSON(g dedupe.ReviewGroup) reviewJSON {
	out := reviewJSON{ID: g.ID, Kind: g.Kind.String(), Proposed: g.Proposed, AutoDropped: g.AutoDropped}
	for _, r := range g.Records {
		out.Records = append(out.Records, recordJSON{ID: r.ID, Name: r.Name, DocType: r.DocType, DocNumber: r.DocNumber,
			Birth: r.Birth, Sex: r.Sex, Ethnicity: r.Ethnicity, Address: r.Address, Phone: r.Phone, Source: r.Source,
			Registered: r.Registered, Updated: r.Updated, Extra: r.Extra})
	}
	for _, d := range g.Diffs {
		out.Diffs = append(out.Diffs, diffJSON(d))
	}
	return out
}

func fromReviewJSON(j reviewJSON) (dedupe.ReviewGroup, error) {
	g := dedupe.ReviewGroup{ID: j.ID, Proposed: j.Proposed, AutoDropped: j.AutoDropped}
	switch j.Kind {
	case dedupe.ReviewSuspicious.String():
		g.Kind = dedupe.ReviewSuspicious
	case dedupe.ReviewConflict.String():
		g.Kind = dedupe.ReviewConflict
	default:
		return g, fmt.Errorf("group %s: kind %q: want suspicious or conflict", j.ID, j.Kind)
	}
	if j.ID == "" || len(j.Records) == 0 {
		return g, fmt.Errorf("group %q: want an id and records", j.ID)
	}
	for _, r := range j.Records {
		g.Records = append(g.Records, dedupe.Record{ID: r.ID, Name: r.Name, DocType: r.DocType, DocNumber: r.DocNumber,
			Birth: r.Birth, Sex: r.Sex, Ethnicity: r.Ethnicity, Address: r.Address, Phone: r.Phone, Source: r.Source,
			Registered: r.Registered, Updated: r.Updated, Extra: r.Extra})
	}
	for _, d := range j.Diffs {
		g.Diffs = append(g.Diffs, dedupe.FieldDiff(d))
	}
	return g, nil
}

// readReviews reads a review queue file written by resolve.
func readReviews(name string, r io.Reader) ([]dedupe.ReviewGroup, error) {
	var js []reviewJSON
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&js); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	out := make([]dedupe.ReviewGroup, 0, len(js))
	seen := map[string]bool{}
	for i, j := range js {
		g, err := fromReviewJSON(j)
		if err != nil {
			return nil, fmt.Errorf("%s: group %d: %w", name, i+1, err)
		}
		if seen[g.ID] {
			return nil, fmt.Errorf("%s: group %d: id %s appears twice", name, i+1, g.ID)
		}
		seen[g.ID] = true
		out = append(out, g)
	}
	return out, nil
}
