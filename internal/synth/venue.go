package synth

// Venue is a place with a venue code that people scan on entry.
type Venue struct {
	ID     uint32  // dense, 0..n-1
	Name   string  // Chinese name, e.g. "成都市锦江区春熙路太古里星巴克咖啡3号店"
	Region string  // six-digit county code
	Weight float64 // relative popularity, Zipf-like (see package docs)
}
