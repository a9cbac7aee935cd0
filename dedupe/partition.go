package dedupe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

// maxSplitLevel bounds how often an oversized partition is split again. A
// partition that is still too big at this level (many records sharing
// one key) is resolved in memory regardless.
const maxSplitLevel = 3

// partitioner spills records into files by the hash of their grouping
// key. Not safe for concurrent use.
type partitioner struct {
	r      *Resolver
	level  int
	files  []SpillFile
	ws     []*bufio.Writer
	counts []int64
	bytes  []int64
	h      hasher
	enc    []byte
	body   []byte
}

func (r *Resolver) newPartitioner(level, n int) (*partitioner, error) {
	p := &partitioner{r: r, level: level, h: hasher{p: &r.policy}}
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

func (p *partitioner) add(rec *Record) error {
	h, ok := p.h.hash(rec)
	if !ok {
		return nil // matches nothing; still counted in Stats.Records
	}
	i := p.index(h)
	p.enc, p.body = encodeRecord(p.enc[:0], p.body, rec)
	if _, err := p.ws[i].Write(p.enc); err != nil {
		return fmt.Errorf("dedupe: spill: %w", err)
	}
	p.counts[i]++
	p.bytes[i] += int64(len(p.enc))
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

// load reads partition i back and releases its file.
func (p *partitioner) load(i int) ([]Record, error) {
	f := p.files[i]
	defer func() {
		_ = f.Close()
		p.files[i] = nil
	}()
	rd, err := f.Reader()
	if err != nil {
		return nil, err
	}
	d := newDecoder(rd)
	recs := make([]Record, 0, p.counts[i])
	for {
		var rec Record
		err := d.next(&rec)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	if int64(len(recs)) != p.counts[i] {
		return nil, fmt.Errorf("%w: partition %d has %d records, want %d", errCorruptSpill, i, len(recs), p.counts[i])
	}
	return recs, nil
}

// memSize estimates the memory partition i takes once loaded.
func (p *partitioner) memSize(i int) int64 {
	return p.bytes[i] + p.counts[i]*(recordOverhead+16)
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

// resolvePartitions resolves every partition of p, Workers at a time, and
// emits their groups in partition order.
func (r *Resolver) resolvePartitions(ctx context.Context, p *partitioner, sink Sink) (Stats, error) {
	st := Stats{Partitions: len(p.files)}
	n := len(p.files)
	workers := max(1, min(r.cfg.Workers, n))
	per := r.cfg.MemoryBudget / int64(workers)
	for lo := 0; lo < n; lo += workers {
		hi := min(n, lo+workers)
		out := make([]batch, hi-lo)
		errs := make([]error, hi-lo)
		var wg sync.WaitGroup
		for i := lo; i < hi; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i-lo] = r.resolvePartition(ctx, p, i, per, &out[i-lo])
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return st, err
		}
		for i := range out {
			b := &out[i]
			st.DuplicateGroups += b.st.DuplicateGroups
			st.Dropped += b.st.Dropped
			st.Suspicious += b.st.Suspicious
			st.Conflicts += b.st.Conflicts
			st.Partitions += b.st.Partitions
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
func (r *Resolver) resolvePartition(ctx context.Context, p *partitioner, i int, budget int64, out *batch) error {
	if p.memSize(i) > budget && p.level < maxSplitLevel && p.counts[i] > 1 {
		// Split into as many parts as needed to fit, with room to spare
		// for an uneven split, but no more than Config.Partitions.
		n := int(min(int64(r.cfg.Partitions), max(2, 2*((p.memSize(i)+budget-1)/budget))))
		sub, err := r.newPartitioner(p.level+1, n)
		if err != nil {
			return err
		}
		defer sub.close()
		if err := p.stream(i, sub.add); err != nil {
			return err
		}
		if err := sub.flush(); err != nil {
			return err
		}
		out.st.Partitions += len(sub.files)
		for j := range sub.files {
			if err := r.resolvePartition(ctx, sub, j, budget, out); err != nil {
				return err
			}
		}
		return nil
	}
	recs, err := p.load(i)
	if err != nil {
		return err
	}
	st, err := r.resolveSlice(ctx, recs, 1, out)
	out.st.DuplicateGroups += st.DuplicateGroups
	out.st.Dropped += st.Dropped
	out.st.Suspicious += st.Suspicious
	out.st.Conflicts += st.Conflicts
	return err
}

// stream decodes partition i record by record into fn and releases it.
func (p *partitioner) stream(i int, fn func(*Record) error) error {
	f := p.files[i]
	defer func() {
		_ = f.Close()
		p.files[i] = nil
	}()
	rd, err := f.Reader()
	if err != nil {
		return err
	}
	d := newDecoder(rd)
	for {
		var rec Record
		err := d.next(&rec)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(&rec); err != nil {
			return err
		}
	}
}
