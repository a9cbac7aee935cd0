package dedupe

// JaroWinkler returns the Jaro-Winkler similarity of a and b, from 0 (no
// characters in common) to 1 (equal), comparing runes, so that Chinese
// names count one character per character. It uses the standard
// parameters: a match window of max(len)/2-1, a prefix scale of 0.1 over
// at most four characters, applied when the Jaro similarity exceeds 0.7.
// Two empty strings are equal (1); an empty and a non-empty one score 0.
func JaroWinkler(a, b string) float64 {
	if a == b {
		return 1
	}
	ra, rb := []rune(a), []rune(b)
	j := jaro(ra, rb)
	if j <= 0.7 {
		return j
	}
	l := 0
	for l < 4 && l < len(ra) && l < len(rb) && ra[l] == rb[l] {
		l++
	}
	return j + float64(l)*0.1*(1-j)
}

// jaro returns the Jaro similarity of two rune strings.
func jaro(a, b []rune) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	window := max(len(a), len(b))/2 - 1
	if window < 0 {
		window = 0
	}
	am := make([]bool, len(a))
	bm := make([]bool, len(b))
	m := 0
	for i, r := range a {
		lo, hi := max(0, i-window), min(len(b)-1, i+window)
		for k := lo; k <= hi; k++ {
			if !bm[k] && b[k] == r {
				am[i], bm[k] = true, true
				m++
				break
			}
		}
	}
	if m == 0 {
		return 0
	}
	// Count transpositions: matched characters out of order.
	t, k := 0, 0
	for i := range a {
		if !am[i] {
			continue
		}
		for !bm[k] {
			k++
		}
		if a[i] != b[k] {
			t++
		}
		k++
	}
	fm := float64(m)
	return (fm/float64(len(a)) + fm/float64(len(b)) + (fm-float64(t)/2)/fm) / 3
}
