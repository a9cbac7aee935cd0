package synth

import (
	"cmp"
	"container/heap"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"
)

// Record is one row of a population registry, with raw strings as a CSV
// export would carry them.
type Record struct {
	ID         int64  // unique, ascending in output order, from 1
	Name       string // may carry stray spaces when NoiseRate > 0
	DocType    string // "身份证", "港澳居民居住证", "台湾居民居住证", "外国人永久居留身份证", "护照"
	DocNumber  string // may be full-width, lower-case x or 15-digit when NoiseRate > 0
	Birth      string // "1990-01-02"; with noise also "19900102" or "1990/1/2"
	Sex        string // "男" or "女"
	Ethnicity  string // "汉", "回", ...
	Address    string
	Phone      string
	Source     string // the registering system, e.g. "社区登记"
	Registered time.Time
	Updated    time.Time
}

// RegistryConfig configures Registry. A zero field means its default,
// except the rates, where zero means none.
type RegistryConfig struct {
	Records        int       // total records; default 1000
	DupRate        float64   // share of records that exactly duplicate an earlier one
	SuspiciousRate float64   // share of records that share an ID with an earlier one but differ in name, birth or ethnicity
	NoiseRate      float64   // share of records with formatting noise that normalises away
	Start          time.Time // first registration time; default DefaultStart()
}

// RegistryTruth is the ground truth of a generated registry. Groups list
// record IDs in ascending order; groups are sorted by their first ID.
type RegistryTruth struct {
	// Duplicates are groups of two or more records equal on normalised
	// name, document number, birth date and ethnicity.
	Duplicates [][]int64
	// Suspicious are groups of all records sharing a normalised document
	// number when they are not all duplicates of each other.
	Suspicious [][]int64
}

// RecordTruth is the ground truth of one record from RegistrySeq.
type RecordTruth struct {
	// Cluster is the ID of the first record carrying the same normalised
	// document number. Records of different clusters never share one.
	Cluster int64
	// Variant numbers the distinct (name, birth, ethnicity) combinations
	// within a cluster, 0 for the first record's. Records with equal
	// Cluster and Variant are exact duplicates.
	Variant int
}

// DocTypeLabel returns the label Registry writes in Record.DocType.
func DocTypeLabel(d DocType) string {
	switch d {
	case DocResident, DocResident15:
		return "身份证"
	case DocHKMacaoPermit:
		return "港澳居民居住证"
	case DocTaiwanPermit:
		return "台湾居民居住证"
	case DocForeignPR:
		return "外国人永久居留身份证"
	case DocPassport:
		return "护照"
	}
	return ""
}

var sources = []string{"社区登记", "卡口登记", "医院登记", "学校登记", "单位登记", "公安户籍", "小程序自主申报"}

func (c RegistryConfig) withDefaults() RegistryConfig {
	if c.Records <= 0 {
		c.Records = 1000
	}
	if c.Start.IsZero() {
		c.Start = defaultStart
	}
	return c
}

// Validate reports rates outside [0, 1) or a duplicate and suspicious share
// that leaves no room for original records.
func (c RegistryConfig) Validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"DupRate", c.DupRate}, {"SuspiciousRate", c.SuspiciousRate}, {"NoiseRate", c.NoiseRate}} {
		if !(f.v >= 0 && f.v <= 1) {
			return fmt.Errorf("synth: RegistryConfig.%s = %v, want a share in [0, 1]", f.name, f.v)
		}
	}
	if c.DupRate+c.SuspiciousRate > 0.9 {
		return fmt.Errorf("synth: RegistryConfig.DupRate + SuspiciousRate = %v, want at most 0.9", c.DupRate+c.SuspiciousRate)
	}
	if c.Records < 0 {
		return errors.New("synth: RegistryConfig.Records is negative")
	}
	return nil
}

// identity is the part of a record that decides duplicates.
type identity struct {
	name      string
	birth     time.Time
	ethnicity string
}

// pendingCopy is a duplicate or near-duplicate waiting for its position.
type pendingCopy struct {
	at      int // target output position
	order   int // tie-break: creation order
	person  *Person
	id      identity
	truth   RecordTruth
	tieTime bool // copy the original's timestamps exactly
	reg     time.Time
	upd     time.Time
	address string
	phone   string
}

type copyHeap []*pendingCopy

func (h copyHeap) Len() int { return len(h) }
func (h copyHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].order < h[j].order
}
func (h copyHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *copyHeap) Push(x any)   { *h = append(*h, x.(*pendingCopy)) }
func (h *copyHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// RegistrySeq streams registry records with their ground truth. Original
// records are fresh People; each may be followed later in the stream (up to
// 200 000 positions later) by exact duplicates (same person re-registered,
// possibly with a new phone, address or source) and near-duplicates (same
// document, with a name typo, another birth date or another ethnicity).
// Exactly Records records are produced; the expected shares of duplicates
// and near-duplicates are DupRate and SuspiciousRate. With NoiseRate > 0,
// that share of records carries formatting noise that normalisation removes:
// full-width digits, lower-case x, the 15-digit form of an 18-digit ID,
// leading or trailing spaces, birth dates as 19900102 or 1990/1/2.
//
// Registered times increase with the position in the stream; Updated is
// Registered or later; about 10 % of copies carry exactly their original's
// timestamps, so "keep latest" needs a tie-break. Memory is bounded by the
// pending copies, not by Records. It panics if cfg.Validate fails.
func (g *Gen) RegistrySeq(cfg RegistryConfig) iter.Seq2[Record, RecordTruth] {
	return func(yield func(Record, RecordTruth) bool) {
		if err := cfg.Validate(); err != nil {
			panic(err)
		}
		cfg = cfg.withDefaults()
		r := g.rng
		base := 1 - cfg.DupRate - cfg.SuspiciousRate
		pDup := cfg.DupRate / (base + cfg.DupRate)
		pSus := cfg.SuspiciousRate / (base + cfg.SuspiciousRate)
		window := min(cfg.Records, 200000)
		clock := cfg.Start
		var pending copyHeap
		order := 0
		for emitted := 0; emitted < cfg.Records; emitted++ {
			clock = clock.Add(time.Duration(1+r.IntN(40)) * time.Second)
			id := int64(emitted + 1)
			if len(pending) > 0 && (pending[0].at <= emitted || emitted+len(pending) >= cfg.Records) {
				c := heap.Pop(&pending).(*pendingCopy)
				reg, upd := clock, g.updated(clock)
				if c.tieTime {
					reg, upd = c.reg, c.upd
				}
				rec := g.record(id, c.person, c.id, c.address, c.phone, reg, upd, cfg.NoiseRate)
				if !yield(rec, c.truth) {
					return
				}
				continue
			}
			p := g.Person()
			orig := identity{name: p.Name, birth: p.Birth, ethnicity: p.Ethnicity}
			upd := g.updated(clock)
			rec := g.record(id, &p, orig, p.Address, p.Phone, clock, upd, cfg.NoiseRate)
			// Plan the copies now, within the room left.
			room := cfg.Records - emitted - 1 - len(pending)
			variants := []identity{orig}
			plan := func(vid identity, variant int) {
				c := &pendingCopy{
					at: emitted + 1 + r.IntN(window), order: order, person: &p, id: vid,
					truth:   RecordTruth{Cluster: id, Variant: variant},
					address: p.Address, phone: p.Phone,
				}
				order++
				if chance(r, 0.1) {
					c.tieTime, c.reg, c.upd = true, clock, upd
				}
				if chance(r, 0.3) {
					c.address = g.address(regionOf(p))
				}
				if chance(r, 0.2) {
					c.phone = g.phone()
				}
				heap.Push(&pending, c)
				room--
			}
			for room > 0 && chance(r, pDup) {
				plan(orig, 0)
			}
			for room > 0 && chance(r, pSus) {
				v := g.variant(orig)
				k := slices.Index(variants, v)
				if k < 0 {
					k = len(variants)
					variants = append(variants, v)
				}
				plan(v, k)
			}
			if !yield(rec, RecordTruth{Cluster: id}) {
				return
			}
		}
	}
}

// regionOf returns the region of a person's residence for new addresses.
func regionOf(p Person) Region {
	if reg, ok := LookupRegion(p.Region); ok && reg.County != "" {
		return reg
	}
	// Permit holders: keep the county prefix of their current address.
	for _, reg := range regions().list {
		if strings.HasPrefix(p.Address, reg.Name()) {
			return reg
		}
	}
	return regions().list[0]
}

// updated returns the Updated time for a record registered at reg.
func (g *Gen) updated(reg time.Time) time.Time {
	if g.rng.IntN(10) < 7 {
		return reg
	}
	return reg.Add(time.Duration(1+g.rng.IntN(30*86400)) * time.Second)
}

// variant returns an identity differing from orig in exactly one field.
func (g *Gen) variant(orig identity) identity {
	r := g.rng
	v := orig
	switch x := r.IntN(4); {
	case x < 2:
		v.name = g.typo(orig.name)
	case x == 2:
		for v.birth.Equal(orig.birth) {
			switch r.IntN(3) {
			case 0: // off by some days
				v.birth = orig.birth.AddDate(0, 0, 1+r.IntN(30))
			case 1: // wrong year
				v.birth = orig.birth.AddDate(-1, 0, 0)
			default: // month and day swapped, when that is a date
				m, d := int(orig.birth.Month()), orig.birth.Day()
				if d <= 12 && d != m {
					v.birth = time.Date(orig.birth.Year(), time.Month(d), m, 0, 0, 0, 0, time.UTC)
				}
			}
		}
	default:
		for v.ethnicity == orig.ethnicity {
			v.ethnicity = pick(r, append(ethnicMinor[:len(ethnicMinor):len(ethnicMinor)], "汉"))
		}
	}
	return v
}

// typo replaces one character of a name with a look-alike.
func (g *Gen) typo(name string) string {
	rs := []rune(name)
	var cand []int
	for i, c := range rs {
		if len(typos[c]) > 0 {
			cand = append(cand, i)
		}
	}
	if len(cand) > 0 {
		i := pick(g.rng, cand)
		rs[i] = pick(g.rng, typos[rs[i]])
		return string(rs)
	}
	i := len(rs) - 1
	for {
		c := pick(g.rng, typoFallback)
		if c != rs[i] && c != '·' {
			rs[i] = c
			return string(rs)
		}
	}
}

// record renders one registry row, with noise at the given rate.
func (g *Gen) record(id int64, p *Person, who identity, address, phone string, reg, upd time.Time, noise float64) Record {
	r := g.rng
	rec := Record{
		ID:         id,
		Name:       who.name,
		DocType:    DocTypeLabel(p.DocType),
		DocNumber:  p.DocNumber,
		Birth:      who.birth.Format("2006-01-02"),
		Sex:        "男",
		Ethnicity:  who.ethnicity,
		Address:    address,
		Phone:      phone,
		Source:     pick(r, sources),
		Registered: reg,
		Updated:    upd,
	}
	if p.Sex == Female {
		rec.Sex = "女"
	}
	if !chance(r, noise) {
		return rec
	}
	for n := 1 + r.IntN(2); n > 0; n-- {
		switch r.IntN(6) {
		case 0:
			rec.DocNumber = fullWidth(rec.DocNumber)
		case 1:
			rec.DocNumber = strings.ReplaceAll(rec.DocNumber, "X", "x")
		case 2:
			if p.DocType == DocResident {
				if s := Downgrade18(p.DocNumber); s != "" {
					rec.DocNumber = s
				}
			}
		case 3:
			rec.Name = pick(r, []string{" ", "  ", "\u3000"}) + rec.Name + pick(r, []string{"", " ", "\t"})
		case 4:
			rec.DocNumber = " " + rec.DocNumber + " "
		default:
			if r.IntN(2) == 0 {
				rec.Birth = who.birth.Format("20060102")
			} else {
				rec.Birth = who.birth.Format("2006/1/2")
			}
		}
	}
	return rec
}

// fullWidth converts ASCII digits and letters to their full-width forms.
func fullWidth(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= '!' && c <= '~' {
			c += 0xFEE0
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Registry returns Records registry records (see RegistrySeq) and their
// ground truth, computed from the generator's own bookkeeping.
func (g *Gen) Registry(cfg RegistryConfig) ([]Record, RegistryTruth) {
	cfg = cfg.withDefaults()
	out := make([]Record, 0, cfg.Records)
	// copies[cluster] lists the copies of a cluster; the cluster's first
	// record (ID == cluster, variant 0) is implicit.
	type member struct {
		id      int64
		variant int
	}
	copies := make(map[int64][]member)
	var clusters []int64
	for rec, t := range g.RegistrySeq(cfg) {
		out = append(out, rec)
		if t.Cluster != rec.ID {
			if len(copies[t.Cluster]) == 0 {
				clusters = append(clusters, t.Cluster)
			}
			copies[t.Cluster] = append(copies[t.Cluster], member{rec.ID, t.Variant})
		}
	}
	slices.Sort(clusters)
	var truth RegistryTruth
	for _, c := range clusters {
		ms := append([]member{{c, 0}}, copies[c]...)
		byVariant := make([][]int64, 0, 2)
		for _, m := range ms {
			for len(byVariant) <= m.variant {
				byVariant = append(byVariant, nil)
			}
			byVariant[m.variant] = append(byVariant[m.variant], m.id)
		}
		distinct := 0
		for _, ids := range byVariant {
			if len(ids) > 0 {
				distinct++
			}
			if len(ids) >= 2 {
				truth.Duplicates = append(truth.Duplicates, ids)
			}
		}
		if distinct > 1 {
			all := make([]int64, len(ms))
			for i, m := range ms {
				all[i] = m.id
			}
			truth.Suspicious = append(truth.Suspicious, all)
		}
	}
	sortGroups(truth.Duplicates)
	sortGroups(truth.Suspicious)
	return out, truth
}

// sortGroups sorts IDs within each group and groups by first ID.
func sortGroups(gs [][]int64) {
	for _, g := range gs {
		slices.Sort(g)
	}
	slices.SortFunc(gs, func(a, b []int64) int { return cmp.Compare(a[0], b[0]) })
}
