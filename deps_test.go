package healthcode_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/healthcode-sdk/healthcode"

// sdkPackages are the independent packages of the SDK. None may import
// another (directly or through anything else), nor net/http, nor testing
// outside its _test files. The one exception is a test-support package
// (see testSupport).
var sdkPackages = []string{"rules", "codes", "contacttrace", "dedupe", "sla"}

// testifyAssert is the package through which testify's require imports
// net/http (for its HTTP assertions).
const testifyAssert = "github.com/stretchr/testify/assert"

// testSupport reports whether pkg is a test-support package: one whose
// import path ends in "/storetest", such as codes/storetest, the
// conformance suite that the stores' _test files run. Like
// net/http/httptest, it exists to be imported by tests, so it imports
// testing, and it asserts with testify, whose assert package imports
// net/http. It may import those two (net/http only through testify) and is
// bound by every other rule. A package that imports it outside its _test
// files still breaks the testing rule: testing is then among its own
// dependencies.
func testSupport(pkg string) bool { return strings.HasSuffix(pkg, "/storetest") }

// forbiddenModules belong to the servers and benchmarks; the root go.mod
// must never require them, so that they never reach an SDK importer.
var forbiddenModules = []string{
	"golang.org/x/time",
	"github.com/expr-lang/expr",
	"modernc.org/sqlite",
	"github.com/mattn/go-sqlite3",
	"github.com/prometheus/client_golang",
	"github.com/cockroachdb/pebble/v2", // benchmarks/bulkbench's candidate engine
}

// top returns which SDK package an import path belongs to, or "".
func top(path string) string {
	rest, ok := strings.CutPrefix(path, module+"/")
	if !ok {
		return ""
	}
	first, _, _ := strings.Cut(rest, "/")
	if slices.Contains(sdkPackages, first) {
		return first
	}
	return ""
}

// violations checks a dependency graph: for each package of an SDK tree,
// the full (transitive, non-test) list of packages it depends on.
func violations(deps map[string][]string) []string {
	var out []string
	for pkg, ds := range deps {
		own := top(pkg)
		if own == "" {
			continue
		}
		support := testSupport(pkg)
		httpViaTestify := support && slices.Contains(ds, testifyAssert)
		for _, d := range ds {
			switch {
			case d == "net/http" && !httpViaTestify:
				out = append(out, fmt.Sprintf("%s imports net/http", pkg))
			case d == "testing" && !support:
				out = append(out, fmt.Sprintf("%s imports testing outside _test files", pkg))
			case top(d) != "" && top(d) != own:
				out = append(out, fmt.Sprintf("%s imports sibling %s", pkg, d))
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestViolationsCatchesEachRule(t *testing.T) {
	testify := []string{testifyAssert, "github.com/stretchr/testify/require", "net/http", "net/http/httptest"}
	got := violations(map[string][]string{
		module + "/codes":           {"fmt", module + "/rules"},
		module + "/codes/boltstore": {module + "/codes", "go.etcd.io/bbolt"},
		module + "/sla":             {"net/http"},
		module + "/dedupe":          {"testing"},
		module + "/rules":           {module + "/internal/synth", "cel.dev/cel-go/cel"},
		module + "/examples/x":      {module + "/codes", module + "/rules", "net/http"},

		// The test-support exception: testing, and net/http through testify.
		module + "/codes/storetest": append([]string{"testing", module + "/codes"}, testify...),
		// It hides nothing else: a sibling, net/http without testify.
		module + "/rules/storetest":  {"testing", module + "/rules", module + "/sla"},
		module + "/dedupe/storetest": {"testing", "net/http"},
		// The whole last element must be storetest.
		module + "/sla/storetestx":  {"testing"},
		module + "/sla/mystoretest": {"testing"},
		// Importing a storetest package outside _test files is caught.
		module + "/contacttrace": append([]string{module + "/contacttrace/storetest", "testing"}, testify...),
	})
	require.Equal(t, []string{
		module + "/codes imports sibling " + module + "/rules",
		module + "/contacttrace imports net/http",
		module + "/contacttrace imports testing outside _test files",
		module + "/dedupe imports testing outside _test files",
		module + "/dedupe/storetest imports net/http",
		module + "/rules/storetest imports sibling " + module + "/sla",
		module + "/sla imports net/http",
		module + "/sla/mystoretest imports testing outside _test files",
		module + "/sla/storetestx imports testing outside _test files",
	}, got)
}

// TestPackageBoundaries enforces the house rule on the real tree with the
// go command's own view of the (transitive, non-test) imports.
func TestPackageBoundaries(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	var patterns []string
	for _, p := range sdkPackages {
		if m, _ := filepath.Glob(filepath.Join(p, "*.go")); len(m) > 0 {
			patterns = append(patterns, "./"+p+"/...")
		}
	}
	if len(patterns) == 0 {
		t.Skip("no SDK package yet")
	}
	args := append([]string{"list", "-e", "-f", "{{.ImportPath}} {{join .Deps \" \"}}"}, patterns...)
	cmd := exec.Command("go", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "go list: %s", stderr.String())
	deps := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 {
			deps[f[0]] = f[1:]
		}
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, deps)
	require.Empty(t, violations(deps))
}

func TestRootModuleKeepsServerAndPeerDepsOut(t *testing.T) {
	mod, err := os.ReadFile("go.mod")
	require.NoError(t, err)
	for _, m := range forbiddenModules {
		require.NotContains(t, string(mod), m+" ", "root go.mod requires %s; it belongs in examples/ or benchmarks/", m)
	}
}
