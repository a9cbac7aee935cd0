package bulkbench

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	bolt "go.etcd.io/bbolt"
)

var bucket = []byte("heads")

// boltEngine is bbolt, bbolt-sorted and bbolt-sharded: one file or several
// chosen by the key's hash, with boltstore's options.
type boltEngine struct {
	dbs    []*bolt.DB
	sorted bool // sort each transaction's keys
}

func openBolt(dir string, shards int, sorted bool) (*boltEngine, error) {
	e := &boltEngine{sorted: sorted}
	for s := range shards {
		db, err := bolt.Open(filepath.Join(dir, fmt.Sprintf("shard-%03d.db", s)), 0o600, &bolt.Options{
			NoFreelistSync:  true,
			FreelistType:    bolt.FreelistMapType,
			PageSize:        16 << 10,
			InitialMmapSize: 1 << 30,
		})
		if err == nil {
			err = db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucketIfNotExists(bucket); return err })
			e.dbs = append(e.dbs, db)
		}
		if err != nil {
			_ = e.close()
			return nil, err
		}
	}
	return e, nil
}

func (e *boltEngine) shard(k []byte) int {
	return int(binary.BigEndian.Uint64(k[8:]) % uint64(len(e.dbs)))
}

func (e *boltEngine) load(b *batch) error    { return e.write(b) }
func (e *boltEngine) reeval(b *batch) error  { return e.write(b) }
func (e *boltEngine) finish(func(int)) error { return nil }

// write puts b in one transaction a file, the files written in parallel.
func (e *boltEngine) write(b *batch) error {
	if len(e.dbs) == 1 {
		var idx []int32
		if e.sorted {
			idx = b.order()
		}
		return writeTx(e.dbs[0], b, idx, 0)
	}
	parts := make([][]int32, len(e.dbs))
	for j := range b.len() {
		s := e.shard(b.key(j))
		parts[s] = append(parts[s], int32(j))
	}
	errs := make([]error, len(e.dbs))
	var wg sync.WaitGroup
	for s, part := range parts {
		if len(part) == 0 {
			continue
		}
		wg.Go(func() {
			if e.sorted {
				part = b.orderOf(part)
			}
			errs[s] = writeTx(e.dbs[s], b, part, 0)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// writeTx puts the records idx of b (nil: all, in arrival order) in one
// transaction, checking the old values of a re-evaluation; fill is the
// bucket's FillPercent (0: bbolt's default).
func writeTx(db *bolt.DB, b *batch, idx []int32, fill float64) error {
	return db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucket)
		if fill > 0 {
			bk.FillPercent = fill
		}
		put := func(j int) error {
			k := b.key(j)
			if b.hasOld() {
				if got := bk.Get(k); !bytes.Equal(got, b.old(j)) {
					return wrongOld(k, got, b.old(j))
				}
			}
			return bk.Put(k, b.val(j))
		}
		if idx == nil {
			for j := range b.len() {
				if err := put(j); err != nil {
					return err
				}
			}
			return nil
		}
		for _, j := range idx {
			if err := put(int(j)); err != nil {
				return err
			}
		}
		return nil
	})
}

func (e *boltEngine) get(k []byte) ([]byte, bool, error) {
	var v []byte
	err := e.dbs[e.shard(k)].View(func(tx *bolt.Tx) error {
		if got := tx.Bucket(bucket).Get(k); got != nil {
			v = bytes.Clone(got)
		}
		return nil
	})
	return v, v != nil, err
}

func (e *boltEngine) close() error {
	var errs []error
	for _, db := range e.dbs {
		errs = append(errs, db.Close())
	}
	e.dbs = nil
	return errors.Join(errs...)
}

// mergeKeys is the most keys bbolt-merge sorts in memory into one run
// (about 130 MB with heads).
const mergeKeys = 4_000_000

// mergeEngine is bbolt-merge: the load is spilled as sorted runs, merged and
// appended in key order with FillPercent 1.0 by finish; the re-evaluation
// writes sorted transactions.
type mergeEngine struct {
	*boltEngine
	dir   string
	vs    int
	batch int
	buf   *batch
	runs  []string
	keys  int // loaded
}

func openMerge(dir string, vs, batchKeys int) (*mergeEngine, error) {
	be, err := openBolt(dir, 1, true)
	if err != nil {
		return nil, err
	}
	return &mergeEngine{boltEngine: be, dir: dir, vs: vs, batch: batchKeys, buf: &batch{vs: vs}}, nil
}

func (e *mergeEngine) load(b *batch) error {
	e.buf.keys = append(e.buf.keys, b.keys...)
	e.buf.vals = append(e.buf.vals, b.vals...)
	e.keys += b.len()
	if e.buf.len() >= mergeKeys {
		return e.spill()
	}
	return nil
}

// spill writes the buffered records, sorted, to a run file.
func (e *mergeEngine) spill() error {
	path := filepath.Join(e.dir, fmt.Sprintf("run-%05d", len(e.runs)))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for _, j := range e.buf.order() {
		_, _ = w.Write(e.buf.key(int(j)))
		_, _ = w.Write(e.buf.val(int(j)))
	}
	err = errors.Join(w.Flush(), f.Close())
	e.runs = append(e.runs, path)
	e.buf.reset()
	return err
}

type run struct {
	r   *bufio.Reader
	f   *os.File
	rec []byte
}

type runHeap []*run

func (h runHeap) Len() int { return len(h) }
func (h runHeap) Less(i, j int) bool {
	return bytes.Compare(h[i].rec[:KeySize], h[j].rec[:KeySize]) < 0
}
func (h runHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)   { *h = append(*h, x.(*run)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// finish merges the runs and appends them to the file in key order, in
// transactions of Config.Batch keys (cut at each tenth of the keys) with
// every page filled, calling tenth(t) as tenth t is committed.
func (e *mergeEngine) finish(tenth func(int)) (err error) {
	if e.buf.len() > 0 {
		if err := e.spill(); err != nil {
			return err
		}
	}
	e.buf = &batch{vs: e.vs} // free the last run's memory
	recLen := KeySize + e.vs
	var h runHeap
	defer func() {
		for _, r := range h {
			_ = r.f.Close()
		}
		for _, p := range e.runs {
			if rerr := os.Remove(p); err == nil {
				err = rerr
			}
		}
		e.runs = nil
	}()
	for _, p := range e.runs {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		r := &run{r: bufio.NewReaderSize(f, 1<<20), f: f, rec: make([]byte, recLen)}
		if _, err := io.ReadFull(r.r, r.rec); err != nil {
			_ = f.Close()
			return fmt.Errorf("run %s: %w", p, err)
		}
		h = append(h, r)
	}
	heap.Init(&h)
	arena := make([]byte, e.batch*recLen)
	appended, t := 0, 0
	done := func() {
		for t < 10 && appended == e.keys*(t+1)/10 {
			tenth(t)
			t++
		}
	}
	done()
	for h.Len() > 0 {
		err := e.dbs[0].Update(func(tx *bolt.Tx) error {
			bk := tx.Bucket(bucket)
			bk.FillPercent = 1.0
			for n := 0; n < e.batch && h.Len() > 0 && appended < e.keys*(t+1)/10; n++ {
				appended++
				rec := arena[n*recLen : (n+1)*recLen]
				top := h[0]
				copy(rec, top.rec)
				if err := bk.Put(rec[:KeySize], rec[KeySize:]); err != nil {
					return err
				}
				switch _, err := io.ReadFull(top.r, top.rec); {
				case err == io.EOF:
					_ = top.f.Close()
					heap.Pop(&h)
				case err != nil:
					return err
				default:
					heap.Fix(&h, 0)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		done()
	}
	if appended != e.keys {
		return fmt.Errorf("merged %d keys of %d", appended, e.keys)
	}
	return nil
}
