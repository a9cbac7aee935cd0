package rulesbench

import (
	"math"
	"slices"

	"github.com/healthcode-sdk/healthcode/rules"
)

// domain computes, per person, what the rules read: the same quantities as
// the rules package's CEL functions, hand-written for the baseline and the
// expr peer. It memoises the test and travel summaries, as the CEL
// activation does, so all subjects do the same work.
type domain struct {
	f          *rules.Facts
	areas      *rules.RiskAreas
	now        int64
	testsDone  bool
	pos, neg   [4]int64 // latest sampling time by kind: any, pcr, antigen, other
	travelDone bool
	visit      [4]int64 // latest visit by risk level
}

const never = math.MinInt64

const (
	kindAny = iota
	kindPCR
	kindAntigen
	kindOther
)

func kindOf(k string) int {
	switch k {
	case "pcr":
		return kindPCR
	case "antigen":
		return kindAntigen
	}
	return kindOther
}

func (d *domain) reset(f *rules.Facts, areas *rules.RiskAreas) {
	d.f, d.areas, d.now = f, areas, f.Now.Unix()
	d.testsDone, d.travelDone = false, false
}

func (d *domain) tests() {
	if d.testsDone {
		return
	}
	d.testsDone = true
	d.pos, d.neg = [4]int64{never, never, never, never}, [4]int64{never, never, never, never}
	for i := range d.f.Tests {
		t := &d.f.Tests[i]
		if t.Sampled.IsZero() {
			continue
		}
		s := t.Sampled.Unix()
		if s > d.now {
			continue
		}
		dst := &d.neg
		if t.Positive {
			dst = &d.pos
		}
		k := kindOf(t.Kind)
		dst[k] = max(dst[k], s)
		dst[kindAny] = max(dst[kindAny], s)
	}
}

func (d *domain) positiveWithin(hours int, kind int) bool {
	d.tests()
	return d.pos[kind] != never && d.pos[kind] >= d.now-int64(hours)*3600
}

func (d *domain) negativeWithin(hours int, kind int) bool {
	d.tests()
	return d.neg[kind] != never && d.neg[kind] >= d.now-int64(hours)*3600
}

func (d *domain) negativesWithin(hours int) int {
	cut := d.now - int64(hours)*3600
	n := 0
	for i := range d.f.Tests {
		t := &d.f.Tests[i]
		if s := t.Sampled.Unix(); !t.Positive && s >= cut && s <= d.now {
			n++
		}
	}
	return n
}

func (d *domain) hoursSinceExposure() int {
	e := d.f.Contact.LastExposure
	if e.IsZero() || e.Unix() > d.now {
		return -1
	}
	return int((d.now - e.Unix()) / 3600)
}

func (d *domain) maxRiskLevel(days int) rules.RiskLevel {
	if !d.travelDone {
		d.travelDone = true
		d.visit = [4]int64{never, never, never, never}
		for i := range d.f.Travel {
			v := &d.f.Travel[i]
			t := v.Time.Unix()
			if t > d.now {
				continue
			}
			if l := d.areas.Level(v.Region); l > rules.LevelNone {
				d.visit[l] = max(d.visit[l], t)
			}
		}
	}
	cut := d.now - int64(days)*86400
	for l := rules.LevelHigh; l > rules.LevelNone; l-- {
		if d.visit[l] != never && d.visit[l] >= cut {
			return l
		}
	}
	return rules.LevelNone
}

func (d *domain) hasFlag(name string) bool { return slices.Contains(d.f.ManualFlags, name) }
