package contacttrace

import (
	"context"
	"fmt"
	"maps"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// VenueName is a venue's caller-side id and display name.
type VenueName struct {
	ID   uint32
	Name string
}

// VenueMatch is one search hit.
type VenueMatch struct {
	ID    uint32
	Name  string
	Score int
}

// VenueNames is an n-gram inverted index over venue names for partial,
// out-of-order searches ("太古里 春熙路" finds "成都市锦江区春熙路太古里某
// 咖啡"). Names and queries are NFKC-normalised and lower-cased, and
// spaces and punctuation are ignored inside a name.
//
// A VenueNames is immutable and safe for concurrent use.
type VenueNames struct {
	text   string   // original names, concatenated
	off    []uint32 // len n+1
	plain  []uint64 // bit e: name e is already in searchable form
	ids    []uint32
	keys   []uint64 // sorted gram keys
	gOff   []uint32 // len len(keys)+1
	post   []uint32 // entry indexes, ascending per gram
	common int      // postings longer than this are only checked, not scanned
	pool   sync.Pool
}

// Scoring, in points: every query n-gram a name contains; a term found
// whole and contiguous; all terms found so.
const (
	gramPoints     = 2
	termBonus      = 2
	allTermsBonus  = 4
	maxQueryGrams  = 64
	unigramPartner = 0xFFFFFFFF // second half of a unigram key
)

// NewVenueNames indexes names on cfg.Workers cores. Ids need not be dense
// or unique; a name is returned with the id it was given.
func NewVenueNames(ctx context.Context, names []VenueName, cfg Config) (*VenueNames, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if len(names) > MaxScans {
		return nil, fmt.Errorf("%w: %d venue names", ErrTooLarge, len(names))
	}
	vn := &VenueNames{ids: make([]uint32, len(names)), off: make([]uint32, len(names)+1)}
	var sb strings.Builder
	for i, n := range names {
		if uint64(sb.Len())+uint64(len(n.Name)) > 1<<32-1 {
			return nil, fmt.Errorf("%w: venue names exceed 4 GiB", ErrTooLarge)
		}
		vn.ids[i] = n.ID
		sb.WriteString(n.Name)
		vn.off[i+1] = uint32(sb.Len())
	}
	vn.text = sb.String()

	// Pass 1 (parallel): each chunk lists the distinct grams of its names.
	chunks := chunkRanges(len(names), cfg.Workers)
	type part struct {
		grams  []uint64 // per name, distinct, concatenated
		ends   []uint32 // end of each name's grams in grams
		plain  []uint32 // names already in searchable form
		counts map[uint64]uint32
	}
	parts := make([]part, len(chunks))
	var wg sync.WaitGroup
	for ci, c := range chunks {
		wg.Go(func() {
			p := part{counts: map[uint64]uint32{}}
			var runes []rune
			for i := c[0]; i < c[1]; i++ {
				if i&4095 == 0 && ctx.Err() != nil {
					return
				}
				runes = nameRunes(runes[:0], names[i].Name)
				if string(runes) == names[i].Name {
					p.plain = append(p.plain, uint32(i))
				}
				start := len(p.grams)
				p.grams = appendGrams(p.grams, runes)
				g := p.grams[start:]
				slices.Sort(g)
				g = slices.Compact(g)
				p.grams = p.grams[:start+len(g)]
				for _, k := range g {
					p.counts[k]++
				}
				p.ends = append(p.ends, uint32(len(p.grams)))
			}
			parts[ci] = p
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	vn.plain = make([]uint64, (len(names)+63)/64)
	for _, p := range parts {
		for _, e := range p.plain {
			vn.plain[e>>6] |= 1 << (e & 63)
		}
	}
	total := map[uint64]uint32{}
	for _, p := range parts {
		for k, n := range p.counts {
			total[k] += n
		}
	}
	vn.keys = slices.Sorted(maps.Keys(total))
	id := make(map[uint64]uint32, len(vn.keys))
	counts := make([]uint32, len(vn.keys)+1)
	for i, k := range vn.keys {
		id[k] = uint32(i)
		counts[i] = total[k]
	}
	vn.gOff = prefixSums(counts)
	vn.post = make([]uint32, vn.gOff[len(vn.keys)])
	next := slices.Clone(vn.gOff[:len(vn.keys)])
	// Pass 2: postings in entry order, so each list is ascending.
	for ci, c := range chunks {
		p := parts[ci]
		prev := uint32(0)
		for j, end := range p.ends {
			entry := uint32(c[0] + j)
			for _, k := range p.grams[prev:end] {
				g := id[k]
				vn.post[next[g]] = entry
				next[g]++
			}
			prev = end
		}
		parts[ci] = part{}
	}
	vn.common = max(4096, len(names)/32)
	return vn, nil
}

// Len is the number of names indexed.
func (vn *VenueNames) Len() int { return len(vn.ids) }

func (vn *VenueNames) name(e uint32) string { return vn.text[vn.off[e]:vn.off[e+1]] }

// nameRunes appends the searchable runes of s: NFKC, lower case, without
// spaces, punctuation, symbols and control characters.
func nameRunes(dst []rune, s string) []rune {
	s = norm.NFKC.String(s)
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsControl(r) || r == utf8.RuneError {
			continue
		}
		dst = append(dst, unicode.ToLower(r))
	}
	return dst
}

// appendGrams appends the unigram and bigram keys of runes.
func appendGrams(dst []uint64, runes []rune) []uint64 {
	for i, r := range runes {
		dst = append(dst, uint64(r)<<32|unigramPartner)
		if i+1 < len(runes) {
			dst = append(dst, uint64(r)<<32|uint64(runes[i+1]))
		}
	}
	return dst
}

// termGrams returns the keys a query term is matched by: its bigrams, or
// its unigram if it is one character long.
func termGrams(runes []rune) []uint64 {
	if len(runes) == 1 {
		return []uint64{uint64(runes[0])<<32 | unigramPartner}
	}
	var out []uint64
	for i := 0; i+1 < len(runes); i++ {
		out = append(out, uint64(runes[i])<<32|uint64(runes[i+1]))
	}
	return out
}

func (vn *VenueNames) postings(key uint64) []uint32 {
	i, ok := slices.BinarySearch(vn.keys, key)
	if !ok {
		return nil
	}
	return vn.post[vn.gOff[i]:vn.gOff[i+1]]
}

type searchScratch struct {
	mask    []uint64 // per entry: which query grams it contains
	touched []uint32
	bounds  []int32    // per touched entry: its score bound
	order   []nameCand // touched entries by descending bound
}

type nameCand struct {
	e     uint32
	bound int32
}

// Search returns up to k names ranked for query, best first. The query is
// split on spaces into terms, in any order. A name scores gramPoints for
// each query n-gram it contains (bigrams; the character itself for a
// one-character term), a bonus for each term it contains whole, and a
// bigger one when it contains every term; ties go to the shorter name,
// then the lower id. Names sharing no n-gram with the query are not
// returned. For speed, an n-gram found in more than 1/32 of the names is
// only checked on names that share a rarer n-gram with the query, unless
// the query has no rarer one.
func (vn *VenueNames) Search(query string, k int) []VenueMatch {
	if k <= 0 || len(vn.ids) == 0 {
		return nil
	}
	type term struct {
		text  string
		runes int
		grams []int // indexes into qgrams
	}
	var terms []term
	var qgrams []uint64
	for _, f := range strings.Fields(query) {
		runes := nameRunes(nil, f)
		if len(runes) == 0 {
			continue
		}
		tm := term{text: string(runes), runes: len(runes)}
		for _, g := range termGrams(runes) {
			j := slices.Index(qgrams, g)
			if j < 0 {
				if len(qgrams) == maxQueryGrams {
					continue
				}
				j = len(qgrams)
				qgrams = append(qgrams, g)
			}
			if !slices.Contains(tm.grams, j) {
				tm.grams = append(tm.grams, j)
			}
		}
		terms = append(terms, tm)
	}
	if len(qgrams) == 0 {
		return nil
	}
	lists := make([][]uint32, len(qgrams))
	order := make([]int, len(qgrams))
	for i, g := range qgrams {
		lists[i] = vn.postings(g)
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return len(lists[a]) - len(lists[b]) })

	sc, _ := vn.pool.Get().(*searchScratch)
	if sc == nil {
		sc = &searchScratch{mask: make([]uint64, len(vn.ids))}
	}
	defer func() {
		for _, e := range sc.touched {
			sc.mask[e] = 0
		}
		sc.touched = sc.touched[:0]
		vn.pool.Put(sc)
	}()
	for n, gi := range order {
		bit := uint64(1) << gi
		list := lists[gi]
		if n == 0 || len(list) <= vn.common {
			for _, e := range list {
				if sc.mask[e] == 0 {
					sc.touched = append(sc.touched, e)
				}
				sc.mask[e] |= bit
			}
			continue
		}
		// A common gram: only check the candidates found so far, by a scan
		// of the list or a binary search per candidate, whichever is less.
		if len(list) < len(sc.touched)*bits.Len(uint(len(list))) {
			for _, e := range list {
				if sc.mask[e] != 0 {
					sc.mask[e] |= bit
				}
			}
			continue
		}
		for _, e := range sc.touched {
			if _, ok := slices.BinarySearch(list, e); ok {
				sc.mask[e] |= bit
			}
		}
	}

	// Upper bound of each candidate's score, assuming every term whose
	// n-grams all match is contiguous; verify in bound order (a counting
	// sort: bounds are small integers) until the k-th best verified score
	// beats the next bound.
	full := func(m uint64, t term) bool {
		for _, g := range t.grams {
			if m&(1<<g) == 0 {
				return false
			}
		}
		return true
	}
	maxBound := gramPoints*len(qgrams) + termBonus*len(terms) + allTermsBonus
	counts := make([]int, maxBound+2)
	sc.bounds = sc.bounds[:0]
	for _, e := range sc.touched {
		m := sc.mask[e]
		b := gramPoints * bits.OnesCount64(m)
		all := true
		for _, t := range terms {
			if full(m, t) {
				b += termBonus
			} else {
				all = false
			}
		}
		if all {
			b += allTermsBonus
		}
		sc.bounds = append(sc.bounds, int32(b))
		counts[maxBound-b+1]++
	}
	for i := 1; i < len(counts); i++ {
		counts[i] += counts[i-1]
	}
	sc.order = slices.Grow(sc.order[:0], len(sc.touched))[:len(sc.touched)]
	for i, e := range sc.touched {
		b := int(sc.bounds[i])
		sc.order[counts[maxBound-b]] = nameCand{e: e, bound: int32(b)}
		counts[maxBound-b]++
	}
	var out []VenueMatch
	better := func(a, b VenueMatch) bool {
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		if len(a.Name) != len(b.Name) {
			return len(a.Name) < len(b.Name)
		}
		return a.ID < b.ID
	}
	var runes []rune
	for _, c := range sc.order {
		if len(out) == k && int(c.bound) < out[k-1].Score {
			break
		}
		m := sc.mask[c.e]
		name := vn.name(c.e)
		// A term of one or two characters is contiguous once its n-gram
		// matched; a longer one is checked in the searchable form of the
		// name, which most names already are.
		normName := ""
		normalised := false
		score := gramPoints * bits.OnesCount64(m)
		all := true
		for _, t := range terms {
			ok := full(m, t)
			if ok && t.runes > 2 {
				if !normalised {
					normName, normalised = name, true
					if vn.plain[c.e>>6]&(1<<(c.e&63)) == 0 {
						runes = nameRunes(runes[:0], name)
						normName = string(runes)
					}
				}
				ok = strings.Contains(normName, t.text)
			}
			if ok {
				score += termBonus
			} else {
				all = false
			}
		}
		if all {
			score += allTermsBonus
		}
		hit := VenueMatch{ID: vn.ids[c.e], Name: name, Score: score}
		pos := sort.Search(len(out), func(j int) bool { return better(hit, out[j]) })
		if pos >= k {
			continue
		}
		if len(out) < k {
			out = append(out, VenueMatch{})
		}
		copy(out[pos+1:], out[pos:])
		out[pos] = hit
	}
	return out
}
