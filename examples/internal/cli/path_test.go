package cli

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSamePath(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv")
	for _, p := range []string{a, b} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "link.csv")
	if err := os.Symlink(a, link); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		x, y string
		want bool
	}{
		{a, a, true},
		{a, filepath.Join(dir, ".", "sub", "..", "a.csv"), true},
		{a, link, true},
		{a, b, false},
		{filepath.Join(dir, "missing"), filepath.Join(dir, "missing"), true},
		{filepath.Join(dir, "missing"), a, false},
	} {
		if got := SamePath(c.x, c.y); got != c.want {
			t.Errorf("SamePath(%s, %s) = %v, want %v", c.x, c.y, got, c.want)
		}
	}
}
