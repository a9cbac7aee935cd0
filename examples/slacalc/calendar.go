package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/healthcode-sdk/healthcode/sla"
)

// runCalendar answers the two questions a contract manager asks of a
// calendar: when is a clock started at -from with -add of working time due,
// and how much working time lies between -from and -to.
func runCalendar(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("slacalc calendar", flag.ContinueOnError)
	fs.SetOutput(stderr)
	contract := fs.String("contract", "", "take the calendar from this contract (preset or YAML); default office hours 09:00-12:00,13:30-17:30 Mon-Fri with mainland holidays")
	name := fs.String("calendar", "", "calendar name in the contract (default its first)")
	from := fs.String("from", "", `start time, "2006-01-02 15:04" (required)`)
	add := fs.Duration("add", 0, "working time to add to -from: prints the deadline")
	to := fs.String("to", "", "end time: prints the working time in [from, to)")
	holidaysFile := fs.String("holidays", "", "holiday years to merge over the shipped ones (YAML, the format of sla/data/holidays_cn.yaml); a year in both is the file's")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("calendar: unexpected argument %q", fs.Arg(0))}
	}
	if *from == "" {
		return usageError{errors.New("calendar: -from is required")}
	}
	if (*add == 0) == (*to == "") {
		return usageError{errors.New("calendar: give exactly one of -add and -to")}
	}
	holidays, err := loadHolidays(*holidaysFile)
	if err != nil {
		return err
	}
	cal, err := pickCalendar(*contract, *name, holidays)
	if err != nil {
		return err
	}
	start, err := parseTime(*from, cal.Location())
	if err != nil {
		return fmt.Errorf("calendar: -from: %w", err)
	}
	if *add != 0 {
		due, err := cal.Add(start, *add)
		if err != nil {
			return calErr("calendar", err)
		}
		_, err = fmt.Fprintf(stdout, "calendar: %s\n%s + %v working time = %s\n", cal.Describe(), start.Format("Mon 2006-01-02 15:04"), *add, due.Format("Mon 2006-01-02 15:04"))
		return err
	}
	end, err := parseTime(*to, cal.Location())
	if err != nil {
		return fmt.Errorf("calendar: -to: %w", err)
	}
	if end.Before(start) {
		return fmt.Errorf("calendar: -to %s is before -from %s", end.Format("2006-01-02 15:04"), start.Format("2006-01-02 15:04"))
	}
	d, err := cal.Between(start, end)
	if err != nil {
		return calErr("calendar", err)
	}
	_, err = fmt.Fprintf(stdout, "calendar: %s\nworking time from %s to %s: %v\n", cal.Describe(), start.Format("Mon 2006-01-02 15:04"), end.Format("Mon 2006-01-02 15:04"), d)
	return err
}

func pickCalendar(contract, name string, holidays *sla.HolidaySet) (*sla.Calendar, error) {
	if contract == "" {
		if name != "" {
			return nil, usageError{errors.New("calendar: -calendar needs -contract")}
		}
		cal, err := sla.NewWorkingCalendar(sla.WorkingConfig{Name: "office 5x8", Holidays: holidays})
		if err != nil {
			return nil, fmt.Errorf("calendar: %w", err)
		}
		return cal, nil
	}
	c, err := loadContract(contract, holidays)
	if err != nil {
		return nil, err
	}
	if name == "" && len(c.Calendars) > 0 {
		name = c.Calendars[0].Name
	}
	cal, ok := c.Calendar(name)
	if !ok {
		var names []string
		for _, cs := range c.Calendars {
			names = append(names, cs.Name)
		}
		return nil, fmt.Errorf("calendar: contract %s has no calendar %q (has %s)", c.Name, name, strings.Join(names, ", "))
	}
	return cal, nil
}
