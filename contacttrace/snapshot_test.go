package contacttrace

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func smallIndex(t testing.TB, seed uint64, n int) (*Index, []Scan) {
	rng := rand.New(rand.NewPCG(seed, 3))
	scans := make([]Scan, n)
	for i := range scans {
		scans[i] = Scan{Person: uint32(rng.IntN(40)), Venue: uint32(rng.IntN(9)), Time: at(time.Duration(rng.IntN(7200)) * time.Second)}
	}
	ix, err := Build(context.Background(), scans, Config{})
	require.NoError(t, err)
	return ix, scans
}

func snapshotBytes(t testing.TB, ix *Index) []byte {
	var buf bytes.Buffer
	n, err := ix.WriteTo(&buf)
	require.NoError(t, err)
	require.Equal(t, int64(buf.Len()), n)
	return buf.Bytes()
}

func TestSnapshotRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 200, 3000} {
		ix, _ := smallIndex(t, uint64(n), n)
		data := snapshotBytes(t, ix)
		// Through a bytes.Reader (size known) and a plain reader (unknown).
		for _, r := range []io.Reader{bytes.NewReader(data), io.MultiReader(bytes.NewReader(data))} {
			got, err := ReadIndex(r)
			require.NoError(t, err)
			require.Equal(t, ix.Len(), got.Len())
			require.Equal(t, ix.columns(), got.columns())
			require.Equal(t, ix.base, got.base)
		}
	}
}

func TestSnapshotEveryTruncationAndBitFlipFails(t *testing.T) {
	ix, _ := smallIndex(t, 1, 60)
	data := snapshotBytes(t, ix)
	for cut := range len(data) {
		_, err := ReadIndex(bytes.NewReader(data[:cut]))
		var se *SnapshotError
		require.ErrorAs(t, err, &se, "cut at %d", cut)
		require.ErrorIs(t, err, ErrCorrupt)
		require.Contains(t, se.Reason, "truncated", "cut at %d", cut)
		require.LessOrEqual(t, se.Offset, int64(cut))
	}
	for i := range len(data) {
		for bit := range 8 {
			bad := bytes.Clone(data)
			bad[i] ^= 1 << bit
			_, err := ReadIndex(bytes.NewReader(bad))
			var se *SnapshotError
			require.ErrorAs(t, err, &se, "flip byte %d bit %d", i, bit)
			require.True(t, errors.Is(err, ErrCorrupt) || errors.Is(err, ErrVersion))
		}
	}
}

func TestSnapshotErrorsNameSection(t *testing.T) {
	ix, _ := smallIndex(t, 2, 100)
	data := snapshotBytes(t, ix)
	timesAt := headerLen + 12 + 4*(ix.NumVenues()+1) + 4 // the times section
	tests := []struct {
		name    string
		mutate  func([]byte) []byte
		section string
		want    error
	}{
		{"magic", func(b []byte) []byte { b[0] = 'X'; return b }, "header", ErrCorrupt},
		{"version", func(b []byte) []byte { b[8] = 9; return b }, "header", ErrVersion},
		{"times checksum", func(b []byte) []byte { b[timesAt+12] ^= 1; return b }, "times", ErrCorrupt},
		{"truncated in persons", func(b []byte) []byte { return b[:timesAt+16+4*ix.Len()+20] }, "persons", ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadIndex(bytes.NewReader(tc.mutate(bytes.Clone(data))))
			var se *SnapshotError
			require.ErrorAs(t, err, &se)
			require.Equal(t, tc.section, se.Section)
			require.ErrorIs(t, err, tc.want)
			require.Contains(t, err.Error(), "contacttrace: snapshot section "+tc.section)
		})
	}
}

func FuzzReadIndex(f *testing.F) {
	for _, n := range []int{0, 1, 5, 40} {
		ix, _ := smallIndex(f, uint64(n), n)
		f.Add(snapshotBytes(f, ix))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ix, err := ReadIndex(bytes.NewReader(data))
		if err != nil {
			var se *SnapshotError
			require.ErrorAs(t, err, &se)
			require.True(t, errors.Is(err, ErrCorrupt) || errors.Is(err, ErrVersion), "%v", err)
			return
		}
		// Whatever loads must be a consistent index that round-trips and
		// answers queries without panicking.
		again := snapshotBytes(t, ix)
		require.Equal(t, data[:len(again)], again)
		for v := range uint32(ix.NumVenues() + 1) {
			ix.VenueScans(nil, v, time.Time{}, time.Time{})
		}
		for p := range uint32(ix.NumPersons() + 1) {
			ix.PersonScans(nil, p, time.Time{}, time.Time{})
		}
	})
}

// TestSnapshotInconsistentButChecksummed writes indexes broken in memory,
// so every checksum is right and only the structural checks can object.
func TestSnapshotInconsistentButChecksummed(t *testing.T) {
	tests := []struct {
		name    string
		breakIt func(ix *Index)
		section string
	}{
		{"venue offsets decrease", func(ix *Index) { ix.venueOff[1], ix.venueOff[2] = ix.venueOff[2], ix.venueOff[1] }, "venue-offsets"},
		{"times out of order", func(ix *Index) {
			a := ix.venueOff[0]
			ix.times[a], ix.times[a+1] = ix.times[a+1]+1, ix.times[a]
		}, "times"},
		{"person id out of range", func(ix *Index) { ix.persons[3] = uint32(ix.NumPersons()) }, "persons"},
		{"person offsets end early", func(ix *Index) { ix.personOff[len(ix.personOff)-1]-- }, "person-offsets"},
		{"position points elsewhere", func(ix *Index) {
			ix.personPos[0], ix.personPos[len(ix.personPos)-1] = ix.personPos[len(ix.personPos)-1], ix.personPos[0]
		}, "person-positions"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ix, _ := smallIndex(t, 9, 300)
			tc.breakIt(ix)
			_, err := ReadIndex(bytes.NewReader(snapshotBytes(t, ix)))
			var se *SnapshotError
			require.ErrorAs(t, err, &se)
			require.Equal(t, tc.section, se.Section, se.Error())
			require.ErrorIs(t, err, ErrCorrupt)
		})
	}
}

// TestReadIndexVersion1 reads a snapshot in version 1's layout (an offset
// per person id), as tracectl wrote before person offsets went per block:
// the index read answers as the one written.
func TestReadIndexVersion1(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	scans, _ := randomWorld(rng)
	scans = append(scans, Scan{Person: 200, Venue: 3, Time: scans[0].Time}) // ids past one block
	ix, err := Build(context.Background(), scans, Config{})
	require.NoError(t, err)
	np := ix.NumPersons()
	dense := make([]uint32, np+1)
	for _, p := range ix.persons {
		dense[p+1]++
	}
	for p := 1; p <= np; p++ {
		dense[p] += dense[p-1]
	}
	var buf bytes.Buffer
	tab := castagnoli()
	hdr := []byte(snapshotMagic)
	hdr = binary.LittleEndian.AppendUint32(hdr, 1)
	hdr = binary.LittleEndian.AppendUint32(hdr, 0)
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(ix.base))
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(ix.NumVenues()))
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(np))
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(ix.Len()))
	hdr = binary.LittleEndian.AppendUint32(hdr, 0)
	hdr = binary.LittleEndian.AppendUint32(hdr, crc32.Checksum(hdr, tab))
	buf.Write(hdr)
	for i, col := range [5][]uint32{ix.venueOff, ix.times, ix.persons, dense, ix.personPos} {
		sec := []byte(sectionTags[i])
		sec = binary.LittleEndian.AppendUint64(sec, uint64(len(col)))
		var vals []byte
		for _, v := range col {
			vals = binary.LittleEndian.AppendUint32(vals, v)
		}
		sec = append(sec, vals...)
		sec = binary.LittleEndian.AppendUint32(sec, crc32.Checksum(vals, tab))
		buf.Write(sec)
	}
	got, err := ReadIndex(&buf)
	require.NoError(t, err)
	require.Equal(t, ix, got)
	for p := range uint32(np) {
		require.Equal(t, ix.PersonScans(nil, p, time.Time{}, time.Unix(1<<40, 0)), got.PersonScans(nil, p, time.Time{}, time.Unix(1<<40, 0)))
	}
}
