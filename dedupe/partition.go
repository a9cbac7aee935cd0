package dedupe

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// maxSplitLevel bounds how often an oversized partition is split again. A
// partition that is still too big at this level (many records sharing
// one key) is resolved in memory regardless.
const maxSplitLevel = 3

// memChunk is the largest size of the byte chunks a memTable fills.
const memChunk = 1 << 20

// memTable holds encoded records in pointer-free byte chunks, which the
// garbage collector never has to scan, next to each record's grouping
// hash. Only the records whose hashes collide are ever decoded. Not safe
// for concurrent use.
type memTable struct {
	chunks [][]byte
	next   int     // the chunk being filled
	es     []entry // h, and i = chunk<<32 | offset
	bytes  int64   // memory held: chunk capacity and entries
}

const entrySize = 16

func (m *memTable) add(h uint64, enc []byte) {
	// Move to the next chunk (reused after a reset, else new) when the
	// current one is full.
	for m.next < len(m.chunks) && cap(m.chunks[m.next])-len(m.chunks[m.next]) < len(enc) {
		m.next++
	}
	if m.next == len(m.chunks) {
		size := 4 << 10 // small partitions stay small; chunks double up to memChunk
		if n := len(m.chunks); n > 0 {
			size = min(memChunk, 2*cap(m.chunks[n-1]))
		}
		c := make([]byte, 0, max(size, len(enc)))
		m.chunks = append(m.chunks, c)
		m.bytes += int64(cap(c))
	}
	c := m.next
	off := len(m.chunks[c])
	m.chunks[c] = append(m.chunks[c], enc...)
	m.es = append(m.es, entry{h: h, i: uint64(c)<<32 | uint64(off)})
	m.bytes += entrySize
}

// encoded returns the length-prefixed encoding of the record at ref.
// reset empties m, keeping its chunks for reuse.
func (m *memTable) reset() {
	for i := range m.chunks {
		m.chunks[i] = m.chunks[i][:0]
	}
	m.es = m.es[:0]
	m.bytes = 0
	for _, c := range m.chunks {
		m.bytes += int64(cap(c))
	}
	m.next = 0
}

func (m *memTable) encoded(ref uint64) ([]byte, error) {
	b := m.chunks[ref>>32][ref&(1<<32-1):]
	_, n, err := splitEncoded(b)
	return b[:n], err
}

// resolveMem resolves the records of m: sort the hashes, decode and
// compare only the runs of equal hashes.
func (r *Resolver) resolveMem(ctx context.Context, m *memTable, sink Sink) (Stats, error) {
	var st Stats
	radixSort(m.es)
	zones := zoneCache{}
	c := clusterer{r: r}
	var recs []Record
	es := m.es
	for i := 0; i < len(es); {
		j := i + 1
		for j < len(es) && es[j].h == es[i].h {
			j++
		}
		if j-i > 1 {
			if err := ctx.Err(); err != nil {
				return st, err
			}
			recs = recs[:0]
			for _, e := range es[i:j] {
				enc, err := m.encoded(e.i)
				if err != nil {
					return st, err
				}
				body, _, _ := splitEncoded(enc)
				var rec Record
				if err := decodeBody(body, &rec, zones); err != nil {
					return st, err
				}
				recs = append(recs, rec)
			}
			c.members = c.members[:0]
			for k := range recs {
				c.members = append(c.members, member{rec: &recs[k]})
			}
			if err := c.resolve(&st, sink); err != nil {
				return st, err
			}
		}
		i = j
	}
	return st, nil
}

// partitioner spills encoded records into files by the hash of their
// grouping key. Not safe for concurrent use.
type partitioner struct {
	r      *Resolver
	level  int
	files  []SpillFile
	ws     []*bufio.Writer
	counts []int64
	bytes  []int64
}

func (r *Resolver) newPartitioner(level, n int) (*partitioner, error) {
	p := &partitioner{r: r, level: level}
	for i := 0; i < n; i++ {
		f, err := r.cfg.Spill.Create()
		if err != nil {
			p.close()
			return nil, err
		}
		p.files = append(p.files, f)
		p.ws = append(p.ws, bufio.NewWriterSize(f, 32<<10))
	}
	p.counts = make([]int64, n)
	p.bytes = make([]int64, n)
	return p, nil
}

// index picks a partition for hash h; each level uses different bits.
func (p *partitioner) index(h uint64) int {
	return int(mix(h+uint64(p.level)*0x9e3779b97f4a7c15) % uint64(len(p.files)))
}

// write appends one encoded record with its hash to its partition.
func (p *partitioner) write(h uint64, enc []byte) error {
	i := p.index(h)
	var hb [8]byte
	binary.LittleEndian.PutUint64(hb[:], h)
	if _, err := p.ws[i].Write(hb[:]); err != nil {
		return fmt.Errorf("dedupe: spill: %w", err)
	}
	if _, err := p.ws[i].Write(enc); err != nil {
		return fmt.Errorf("dedupe: spill: %w", err)
	}
	p.counts[i]++
	p.bytes[i] += int64(len(enc))
	return nil
}

func (p *partitioner) flush() error {
	for _, w := range p.ws {
		if err := w.Flush(); err != nil {
			return fmt.Errorf("dedupe: spill: %w", err)
		}
	}
	return nil
}

// close releases every file that is still open.
func (p *partitioner) close() {
	for i, f := range p.files {
		if f != nil {
			_ = f.Close() // temporary data; nothing to recover
			p.files[i] = nil
		}
	}
}

// stream hands every record of partition i to fn and releases the file.
func (p *partitioner) stream(i int, fn func(h uint64, enc []byte) error) error {
	f := p.files[i]
	defer func() {
		_ = f.Close()
		p.files[i] = nil
	}()
	rd, err := f.Reader()
	if err != nil {
		return err
	}
	fr := newFileReader(rd)
	n := int64(0)
	for {
		h, enc, err := fr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		n++
		if err := fn(h, enc); err != nil {
			return err
		}
	}
	if n != p.counts[i] {
		return fmt.Errorf("%w: partition %d has %d records, want %d", errCorruptSpill, i, n, p.counts[i])
	}
	return nil
}

// memSize estimates the memory partition i takes once loaded.
func (p *partitioner) memSize(i int) int64 {
	return p.bytes[i] + p.counts[i]*entrySize
}

// batch is the output of one partition, held until it is its turn to be
// emitted so that the order does not depend on scheduling.
type batch struct {
	st      Stats
	dups    []DuplicateGroup
	reviews []ReviewGroup
}

func (b *batch) Duplicate(g DuplicateGroup) error { b.dups = append(b.dups, g); return nil }
func (b *batch) Review(g ReviewGroup) error       { b.reviews = append(b.reviews, g); return nil }

func (s *Stats) addCounts(o Stats) {
	s.DuplicateGroups += o.DuplicateGroups
	s.Dropped += o.Dropped
	s.Suspicious += o.Suspicious
	s.Conflicts += o.Conflicts
	s.Partitions += o.Partitions
}

// resolvePartitions resolves every partition of p, Workers at a time, and
// emits their groups in partition order.
func (r *Resolver) resolvePartitions(ctx context.Context, p *partitioner, sink Sink) (Stats, error) {
	st := Stats{Partitions: len(p.files)}
	n := len(p.files)
	workers := max(1, min(r.cfg.Workers, n))
	per := r.cfg.MemoryBudget / int64(workers)
	scratch := make([]memTable, workers) // one per worker, reused partition after partition
	for lo := 0; lo < n; lo += workers {
		hi := min(n, lo+workers)
		out := make([]batch, hi-lo)
		errs := make([]error, hi-lo)
		var wg sync.WaitGroup
		for i := lo; i < hi; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i-lo] = r.resolvePartition(ctx, p, i, per, &out[i-lo], &scratch[i-lo])
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return st, err
		}
		for i := range out {
			b := &out[i]
			st.addCounts(b.st)
			for _, g := range b.dups {
				if err := sink.Duplicate(g); err != nil {
					return st, err
				}
			}
			for _, g := range b.reviews {
				if err := sink.Review(g); err != nil {
					return st, err
				}
			}
		}
	}
	return st, nil
}

// resolvePartition resolves partition i of p into out, splitting it again
// first when it would take more than budget bytes.
func (r *Resolver) resolvePartition(ctx context.Context, p *partitioner, i int, budget int64, out *batch, m *memTable) error {
	if p.memSize(i) > budget && p.level < maxSplitLevel && p.counts[i] > 1 {
		// Split into as many parts as needed to fit, with room to spare
		// for an uneven split, but no more than Config.Partitions.
		n := int(min(int64(r.cfg.Partitions), max(2, 2*((p.memSize(i)+budget-1)/budget))))
		sub, err := r.newPartitioner(p.level+1, n)
		if err != nil {
			return err
		}
		defer sub.close()
		if err := p.stream(i, sub.write); err != nil {
			return err
		}
		if err := sub.flush(); err != nil {
			return err
		}
		out.st.Partitions += len(sub.files)
		for j := range sub.files {
			if err := r.resolvePartition(ctx, sub, j, budget, out, m); err != nil {
				return err
			}
		}
		return nil
	}
	m.reset()
	if err := p.stream(i, func(h uint64, enc []byte) error { m.add(h, enc); return nil }); err != nil {
		return err
	}
	st, err := r.resolveMem(ctx, m, out)
	out.st.addCounts(st)
	return err
}
