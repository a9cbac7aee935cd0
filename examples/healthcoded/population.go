package main

import (
	"encoding/binary"
	"fmt"
	"iter"
	"time"

	"github.com/healthcode-sdk/healthcode/rules"
)

// population is the dry-run population: every member's facts, packed one
// after another into one byte slice. As rules.Facts values (strings,
// slices, times) 10 k people held 4 MB of pointers that the collector
// traced on every cycle, under lookup load 30 % of all it traced, and
// growing with the population; bytes it never traces. A dry run or a bulk
// evaluation unpacks one member at a time. Times come back in UTC (the
// same instants; rules compare instants). Immutable once built; the zero
// value is an empty population.
type population struct {
	data []byte
	ends []int // member i is data[ends[i-1]:ends[i]]
}

// add packs f as the next member.
func (p *population) add(f *rules.Facts) {
	b := appendTime(p.data, f.Now)
	b = binary.AppendUvarint(b, uint64(len(f.Tests)))
	for _, t := range f.Tests {
		b = appendString(b, t.Kind)
		b = append(b, boolByte(t.Positive))
		b = appendTime(b, t.Sampled)
		b = appendTime(b, t.Reported)
	}
	b = binary.AppendUvarint(b, uint64(len(f.Travel)))
	for _, v := range f.Travel {
		b = appendString(b, v.Region)
		b = appendTime(b, v.Time)
	}
	b = appendString(b, f.Contact.Kind)
	b = appendTime(b, f.Contact.LastExposure)
	b = appendTime(b, f.Contact.Identified)
	b = binary.AppendVarint(b, int64(f.VaccineDoses))
	b = appendString(b, f.EntryStatus)
	b = binary.AppendUvarint(b, uint64(len(f.ManualFlags)))
	for _, s := range f.ManualFlags {
		b = appendString(b, s)
	}
	p.data = b
	p.ends = append(p.ends, len(b))
}

// Len is the number of members.
func (p *population) Len() int { return len(p.ends) }

// All yields every member's facts in the order they were added, each a
// new value the consumer may keep.
func (p *population) All() iter.Seq[rules.Facts] {
	return func(yield func(rules.Facts) bool) {
		start := 0
		for i, end := range p.ends {
			f, err := unpackFacts(p.data[start:end])
			if err != nil {
				// Only add writes data: this is a bug, not bad input.
				panic(fmt.Sprintf("healthcoded: population member %d: %v", i, err))
			}
			if !yield(f) {
				return
			}
			start = end
		}
	}
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// appendTime writes 0 for the zero time, else 1 and the Unix nanoseconds.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	return binary.AppendVarint(append(b, 1), t.UnixNano())
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// unpacker reads what add wrote; the first error sticks.
type unpacker struct {
	b   []byte
	err error
}

func (u *unpacker) fail(what string) {
	if u.err == nil {
		u.err = fmt.Errorf("%s at %d bytes from the end", what, len(u.b))
	}
	u.b = nil
}

// number reads one varint with decode: binary.Uvarint or binary.Varint.
func number[T uint64 | int64](u *unpacker, decode func([]byte) (T, int)) T {
	v, n := decode(u.b)
	if n <= 0 {
		u.fail("bad number")
		return 0
	}
	u.b = u.b[n:]
	return v
}

// flag reads a byte that must be 0 or 1.
func (u *unpacker) flag() bool {
	if len(u.b) == 0 || u.b[0] > 1 {
		u.fail("bad flag")
		return false
	}
	c := u.b[0]
	u.b = u.b[1:]
	return c == 1
}

func (u *unpacker) time() time.Time {
	if !u.flag() {
		return time.Time{}
	}
	return time.Unix(0, number(u, binary.Varint)).UTC()
}

func (u *unpacker) string() string {
	n := number(u, binary.Uvarint)
	if n > uint64(len(u.b)) {
		u.fail("string past the member's end")
		return ""
	}
	s := string(u.b[:n])
	u.b = u.b[n:]
	return s
}

// count reads a slice length no larger than the bytes left could hold
// (every element takes at least one byte).
func (u *unpacker) count() int {
	n := number(u, binary.Uvarint)
	if n > uint64(len(u.b)) {
		u.fail("count past the member's end")
		return 0
	}
	return int(n)
}

func unpackFacts(b []byte) (rules.Facts, error) {
	u := unpacker{b: b}
	f := rules.Facts{Now: u.time()}
	if n := u.count(); n > 0 {
		f.Tests = make([]rules.Test, n)
		for i := range f.Tests {
			f.Tests[i] = rules.Test{Kind: u.string(), Positive: u.flag(), Sampled: u.time(), Reported: u.time()}
		}
	}
	if n := u.count(); n > 0 {
		f.Travel = make([]rules.Visit, n)
		for i := range f.Travel {
			f.Travel[i] = rules.Visit{Region: u.string(), Time: u.time()}
		}
	}
	f.Contact = rules.Contact{Kind: u.string(), LastExposure: u.time(), Identified: u.time()}
	f.VaccineDoses = int(number(&u, binary.Varint))
	f.EntryStatus = u.string()
	if n := u.count(); n > 0 {
		f.ManualFlags = make([]string, n)
		for i := range f.ManualFlags {
			f.ManualFlags[i] = u.string()
		}
	}
	if u.err == nil && len(u.b) > 0 {
		u.fail("trailing bytes")
	}
	return f, u.err
}
