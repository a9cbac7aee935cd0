package main

import (
	"github.com/healthcode-sdk/healthcode/dedupe"
	"github.com/healthcode-sdk/healthcode/examples/internal/cli"
)

// countingRecords counts the records a RecordReader yields.
type countingRecords struct {
	src dedupe.RecordReader
	p   *cli.Progress
}

func (c countingRecords) Read() (dedupe.Record, error) {
	r, err := c.src.Read()
	if err == nil {
		c.p.Row()
	}
	return r, err
}
