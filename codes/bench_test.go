package codes

import (
	"context"
	"flag"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthcode-sdk/healthcode/internal/synth"
)

func BenchmarkParseResidentID(b *testing.B) {
	for _, in := range []string{"11010519491231002X", "１１０１０５１９４９１２３１００２ｘ", "110105491231002"} {
		b.Run(in, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseResidentID(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParsePhone(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParsePhone("+86 138 0013 8000"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKeyer(b *testing.B) {
	id, _ := ParseResidentID("11010519491231002X")
	for _, suite := range []KeySuite{HMACSHA256, HMACSM3} {
		k, _ := NewKeyer(suite, testSecret)
		b.Run(suite.String(), func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					_ = k.Document(id)
				}
			})
		})
	}
}

// lookupFixture is a registry and a plain map over the same n keys, 10 %
// of them non-green.
func lookupFixture(b *testing.B, n int) (*Registry, map[Key]Colour, []Key, []Colour) {
	ctx := context.Background()
	store := NewMemStore()
	keys := make([]Key, n)
	want := make([]Colour, n)
	m := make(map[Key]Colour, n)
	var changes []Change
	for i := range keys {
		keys[i] = randKey(i)
		m[keys[i]] = Green
		if i%10 == 0 {
			m[keys[i]] = Red
			want[i] = Red
			changes = append(changes, Change{Key: keys[i], State: ruleState(Red, t0)})
		}
	}
	if _, err := store.Apply(ctx, changes); err != nil {
		b.Fatal(err)
	}
	r, err := Open(ctx, store, Config{ExpectedNonGreen: uint(len(changes))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(r.Close)
	for _, k := range keys { // warm the cache
		if _, err := r.Lookup(ctx, k); err != nil {
			b.Fatal(err)
		}
	}
	r.cache.Wait()
	return r, m, keys, want
}

// largeBench adds production sizes to the micro-benchmarks; CI runs them
// once each at the small sizes only.
var largeBench = flag.Bool("large", false, "also run micro-benchmarks at production sizes (1 M keys)")

func BenchmarkLookup(b *testing.B) {
	sizes := []int{100_000}
	if *largeBench {
		sizes = append(sizes, 1_000_000)
	}
	for _, n := range sizes {
		r, m, keys, want := lookupFixture(b, n)
		ctx := context.Background()
		b.Run("registry/n="+strconv.Itoa(n), func(b *testing.B) {
			var seed atomic.Uint64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := int(seed.Add(7919)) * 104729
				for pb.Next() {
					i++
					j := uint(i) % uint(len(keys))
					st, _ := r.Lookup(ctx, keys[j])
					if st.Colour != want[j] {
						b.Fatal("wrong colour")
					}
				}
			})
		})
		b.Run("colour/n="+strconv.Itoa(n), func(b *testing.B) {
			var seed atomic.Uint64
			b.RunParallel(func(pb *testing.PB) {
				i := int(seed.Add(7919)) * 104729
				for pb.Next() {
					i++
					j := uint(i) % uint(len(keys))
					if c, _ := r.Colour(ctx, keys[j], t0); c != want[j] {
						b.Fatal("wrong colour")
					}
				}
			})
		})
		b.Run("map/n="+strconv.Itoa(n), func(b *testing.B) {
			var seed atomic.Uint64
			b.RunParallel(func(pb *testing.PB) {
				i := int(seed.Add(7919)) * 104729
				for pb.Next() {
					i++
					j := uint(i) % uint(len(keys))
					if m[keys[j]] != want[j] {
						b.Fatal("wrong colour")
					}
				}
			})
		})
	}
}

func BenchmarkApplyMemStore(b *testing.B) {
	s := NewMemStore()
	changes := make([]Change, b.N)
	for i := range changes {
		changes[i] = Change{Key: randKey(i), State: ruleState(Red, t0.Add(time.Duration(i)))}
	}
	b.ReportAllocs()
	b.ResetTimer()
	if _, err := s.Apply(context.Background(), changes); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkToken(b *testing.B) {
	s := newTestSigners(b)
	v, _ := NewVerifier(VerifierConfig{}, s.ed.Public(), s.sm.Public())
	c := Claims{Colour: Green, Name: "张*", Issued: t0, Expires: t0.Add(5 * time.Minute)}
	for _, signer := range []*Signer{s.ed, s.sm} {
		text, _ := signer.Sign(c)
		b.Run("sign/"+signer.Suite().String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := signer.Sign(c); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("verify/"+signer.Suite().String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(text, t0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkKeyFromSynthID(b *testing.B) {
	people := synth.New(5).People(4096)
	k, _ := NewKeyer(HMACSHA256, testSecret)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		id, err := Parse(people[i%len(people)].DocNumber)
		if err != nil {
			b.Fatal(err)
		}
		_ = k.Document(id)
		i++
	}
}
