package synth

// Venue is a place with a venue code that people scan on entry.
type Venue struct {
	ID     uint32  // dense, 0..n-1
	Name   string  // Chinese name, e.g. "成都市锦江区春熙路太古里星巴克咖啡3号店"
	Region string  // six-digit county code
	Weight float64 // relative popularity, Zipf-like (see package docs)
}

// venueWeights returns the normalised Zipf popularity of each venue ID for
// n venues and exponent s: the venue of rank r (0 = most popular) is
// r*rankStep(n) mod n.
func venueWeights(n int, s float64) []float64 {
	zw := zipfWeights(n, s)
	sum := 0.0
	for _, x := range zw {
		sum += x
	}
	w := make([]float64, n)
	for r, v := range rankPerm(n) {
		w[v] = zw[r] / sum
	}
	return w
}

// Venues returns n venues with IDs 0..n-1. Names are composed of city,
// county, road, landmark or street number, brand and business type, so that
// partial names such as "春熙路" or "太古里" match many venues. Weight is
// the probability that a scan drawn by Scans with Venues: n and the default
// ZipfS lands on the venue; weights sum to 1.
func (g *Gen) Venues(n int) []Venue {
	if n <= 0 {
		return nil
	}
	w := venueWeights(n, DefaultZipfS)
	t := regions()
	r := g.rng
	out := make([]Venue, n)
	b := make([]byte, 0, 128)
	for i := range out {
		reg := t.list[r.IntN(len(t.list))]
		b = b[:0]
		if reg.City != "" {
			b = append(b, reg.City...)
		} else {
			b = append(b, reg.Province...)
		}
		b = append(b, reg.County...)
		b = append(b, pick(r, roads)...)
		if r.IntN(3) == 0 {
			b = appendPad(b, 1+r.IntN(400), 1)
			b = append(b, "号"...)
		} else {
			b = append(b, pick(r, landmarks)...)
		}
		if r.IntN(2) == 0 {
			b = append(b, pick(r, brands)...)
		}
		b = append(b, pick(r, businesses)...)
		if r.IntN(4) == 0 {
			b = appendPad(b, 1+r.IntN(9), 1)
			b = append(b, "号店"...)
		}
		out[i] = Venue{ID: uint32(i), Name: string(b), Region: reg.Code, Weight: w[i]}
	}
	return out
}
