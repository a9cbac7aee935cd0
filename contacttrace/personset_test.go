package contacttrace

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPersonSet(t *testing.T) {
	s := NewPersonSet(5, 64, 5, 1000)
	require.Equal(t, 3, s.Len(), "duplicates count once")
	require.True(t, s.Has(64))
	require.False(t, s.Has(63))
	require.False(t, s.Has(1<<31), "beyond the bitset is absent, not a panic")
	o := NewPersonSet(0, 64, 70_000)
	s.Union(o)
	require.Equal(t, []uint32{0, 5, 64, 1000, 70_000}, slices.Collect(s.All()))
	require.Equal(t, 5, s.Len())
	var none *PersonSet
	require.False(t, none.Has(1))
	require.Zero(t, none.Len())
	require.Empty(t, slices.Collect(none.All()))
	s.Union(nil)
	require.Equal(t, 5, s.Len())
}

func TestRunTaskExcludesEarlierTasks(t *testing.T) {
	ctx := context.Background()
	scans := []Scan{
		{Person: 0, Venue: 1, Time: at(0)}, {Person: 1, Venue: 1, Time: at(time.Minute)},
		{Person: 2, Venue: 1, Time: at(2 * time.Minute)}, {Person: 3, Venue: 2, Time: at(0)},
		{Person: 4, Venue: 2, Time: at(time.Minute)}, {Person: 4, Venue: 1, Time: at(3 * time.Minute)},
	}
	ix, err := Build(ctx, scans, Config{})
	require.NoError(t, err)
	tr, err := NewTracer(ix, nil, Config{})
	require.NoError(t, err)
	first, err := tr.RunTask(ctx, "t1", Query{Cases: []uint32{3}, After: time.Hour})
	require.NoError(t, err)
	require.Equal(t, []uint32{3, 4}, slices.Collect(first.Identified().All()), "cases and contacts")
	userEx := NewPersonSet(2)
	second, err := tr.RunTask(ctx, "t2", Query{Cases: []uint32{0}, After: time.Hour, Exclude: userEx}, first)
	require.NoError(t, err)
	require.Equal(t, []string{"t1"}, second.Excluded)
	require.Len(t, second.Result.Contacts, 1, "2 is excluded by the caller, 4 by task t1")
	require.Equal(t, uint32(1), second.Result.Contacts[0].Person)
	require.Equal(t, 1, userEx.Len(), "the caller's exclusion set is not modified")
	_, err = tr.RunTask(ctx, "", Query{})
	require.ErrorIs(t, err, ErrInvalid)
	_, err = tr.RunTask(ctx, "t3", Query{}, nil)
	require.ErrorIs(t, err, ErrInvalid)
}
