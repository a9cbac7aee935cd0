package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/healthcode-sdk/healthcode/sla"
)

func runPresets(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("slacalc presets", flag.ContinueOnError)
	fs.SetOutput(stderr)
	show := fs.String("show", "", "print the named preset's YAML document")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("presets: unexpected argument %q", fs.Arg(0))}
	}
	if *show != "" {
		if !slices.Contains(sla.PresetNames(), *show) {
			return fmt.Errorf("presets: no preset %q (have %s)", clip(*show), strings.Join(sla.PresetNames(), ", "))
		}
		b, err := sla.PresetYAML(*show)
		if err != nil {
			return fmt.Errorf("presets: %w", err)
		}
		_, err = stdout.Write(b)
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTOTAL\tLEVELS\tAVAILABILITY\tSCORECARD ITEMS\tTITLE")
	for _, name := range sla.PresetNames() {
		c, err := sla.Preset(name)
		if err != nil {
			return err
		}
		total := "-"
		if c.Total != 0 {
			total = c.Total.Format()
		}
		avail := "-"
		if c.Availability != nil {
			avail = c.Availability.Target.Percent()
		}
		items := 0
		if c.Scorecard != nil {
			items = len(c.Scorecard.Items)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", name, total, strings.Join(c.Policy().Levels(), ","), avail, items, c.Title)
	}
	if err := tw.Flush(); err != nil {
		return errors.Join(errors.New("presets: write"), err)
	}
	return nil
}
