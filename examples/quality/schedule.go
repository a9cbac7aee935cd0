package quality

import (
	"context"
	"time"
)

// chinaTime is China Standard Time, the zone of schedules and days.
var chinaTime = time.FixedZone("CST", 8*3600)

// nextDue returns the first schedule time after now and the rules due
// then (none if no rule has a schedule).
func nextDue(rules *Rules, now time.Time) (time.Time, []string) {
	var next time.Time
	var due []string
	now = now.In(chinaTime)
	y, m, d := now.Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, chinaTime)
	for _, ru := range rules.Rules {
		if !ru.Daily {
			continue
		}
		t := midnight.Add(ru.At)
		if !t.After(now) {
			t = midnight.AddDate(0, 0, 1).Add(ru.At)
		}
		switch {
		case next.IsZero() || t.Before(next):
			next, due = t, []string{ru.Name}
		case t.Equal(next):
			due = append(due, ru.Name)
		}
	}
	return next, due
}

// Schedule runs every rule with a schedule daily at its time (China
// Standard Time), for the day before, until ctx ends; it returns
// ctx.Err(). A day outside a rule's validity period is skipped; a rule
// still running from before is not started twice (both are logged).
// Reload takes effect at once. Runs it started keep going after it
// returns; Stop them if needed.
func (r *Runner) Schedule(ctx context.Context) error {
	for {
		now := r.cfg.Now()
		next, due := nextDue(r.Rules(), now)
		var fire <-chan time.Time
		if !next.IsZero() {
			fire = r.cfg.After(next.Sub(now))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.reload:
			continue
		case <-fire:
		}
		day := next.In(chinaTime).AddDate(0, 0, -1).Format(time.DateOnly)
		for _, name := range due {
			ru, ok := r.Rules().Rule(name)
			if !ok {
				continue
			}
			if !ru.Valid(day) {
				r.log.Info("quality: scheduled run skipped: outside the validity period", "rule", name, "day", day)
				continue
			}
			if _, err := r.Start(ctx, name, day); err != nil {
				r.log.Warn("quality: scheduled run not started", "rule", name, "day", day, "err", err)
			}
		}
	}
}
