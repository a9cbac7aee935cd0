package bulkbench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// pebbleEngine is pebble and pebble-ingest.
type pebbleEngine struct {
	db     *pebble.DB
	cache  interface{ Unref() }
	dir    string
	ingest bool // load as SSTs through DB.Ingest
	ssts   int
}

// quiet drops pebble's informational and error logs (errors reach the
// caller as return values); a fatal one still stops the run.
type quiet struct{}

func (quiet) Infof(string, ...any)           {}
func (quiet) Errorf(string, ...any)          {}
func (quiet) Fatalf(format string, a ...any) { panic(fmt.Sprintf(format, a...)) }

func openPebble(dir string, ingest bool) (*pebbleEngine, error) {
	cache := pebble.NewCache(256 << 20)
	o := &pebble.Options{
		Cache:        cache,
		MemTableSize: 64 << 20,
		// Two cores: one compaction beside the writer, a second when the
		// L0 debt grows.
		CompactionConcurrencyRange: func() (int, int) { return 1, 2 },
		Logger:                     quiet{},
	}
	for i := range o.Levels {
		o.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(filepath.Join(dir, "db"), o)
	if err != nil {
		cache.Unref()
		return nil, err
	}
	return &pebbleEngine{db: db, cache: cache, dir: dir, ingest: ingest}, nil
}

func (e *pebbleEngine) load(b *batch) error {
	if !e.ingest {
		return e.commit(b)
	}
	path := filepath.Join(e.dir, fmt.Sprintf("ingest-%06d.sst", e.ssts))
	e.ssts++
	f, err := vfs.Default.Create(path, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	w := sstable.NewWriter(objstorageprovider.NewFileWritable(f), sstable.WriterOptions{TableFormat: e.db.TableFormat()})
	for _, j := range b.order() {
		if err := w.Set(b.key(int(j)), b.val(int(j))); err != nil {
			_ = w.Close()
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	// Ingest links the file into the store (and removes the original).
	return e.db.Ingest(context.Background(), []string{path})
}

func (e *pebbleEngine) finish(func(int)) error { return nil }

func (e *pebbleEngine) reeval(b *batch) error {
	if err := checkOlds(e.get, b); err != nil {
		return err
	}
	return e.commit(b)
}

// commit writes b in one batch, synced.
func (e *pebbleEngine) commit(b *batch) error {
	pb := e.db.NewBatch()
	for j := range b.len() {
		if err := pb.Set(b.key(j), b.val(j), nil); err != nil {
			_ = pb.Close()
			return err
		}
	}
	return errors.Join(pb.Commit(pebble.Sync), pb.Close())
}

func (e *pebbleEngine) get(k []byte) ([]byte, bool, error) {
	v, c, err := e.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	v = bytes.Clone(v)
	return v, true, c.Close()
}

func (e *pebbleEngine) close() error {
	err := e.db.Close()
	e.cache.Unref()
	return err
}
