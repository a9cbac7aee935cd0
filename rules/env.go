package rules

import (
	"fmt"
	"reflect"
	"sort"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/ext"
)

// Colour is a code colour. The Env gives each colour a severity; the most
// severe matching rule decides a person's colour. A plain value.
type Colour string

// The three colours every Env knows. WithColour adds more (an "orange"
// between yellow and red, say) or changes their severities.
const (
	Green  Colour = "green"
	Yellow Colour = "yellow"
	Red    Colour = "red"
)

// Defaults for the Env options.
const (
	// DefaultCostBudget is the static worst-case cost a single rule may have.
	DefaultCostBudget = 10_000
	// DefaultCostLimit is the runtime cost limit of a rule that contains a
	// comprehension (all, exists, map, filter); it allows inputs ten times
	// larger than the declared sizes the budget was estimated with.
	DefaultCostLimit = 100_000
	// DefaultInterruptCheckFrequency is how many comprehension iterations
	// pass between checks of ctx.
	DefaultInterruptCheckFrequency = 100
	// DefaultMaxRules bounds the rules of one set.
	DefaultMaxRules = 1_000
	// DefaultMaxExpressionLength bounds a `when` expression, in code points.
	DefaultMaxExpressionLength = 4_096
	// DefaultMaxSize is the declared size of a list or string variable (and
	// of each element of a list) when a Variable does not say, used by the
	// static cost estimate.
	DefaultMaxSize = 64
)

// Variable declares a fact of a custom schema: a name rules refer to and a
// CEL type. MaxSize bounds a string or list value (and the strings inside a
// list) for the static cost estimate; zero means DefaultMaxSize. A plain
// value.
type Variable struct {
	Name    string
	Type    *cel.Type
	MaxSize uint64
}

// EnvOption configures an Env. A bad option makes NewEnv fail; nothing is
// checked later, at evaluation. Options are functions without shared state
// and may be reused for any number of Envs.
type EnvOption func(*envConfig) error

type envConfig struct {
	custom    bool
	vars      []Variable
	colours   map[Colour]int
	budget    uint64
	limit     uint64
	interrupt uint
	maxRules  int
	maxExpr   int
	noNative  bool
}

// NativePlan turns the native plan on (the default) or off. With it on,
// rules of the health schema written in a small error-free subset of CEL
// (see Plan) are also compiled to Go closures that compute the same value
// several times faster than the interpreter; off, every rule runs on the
// CEL interpreter.
func NativePlan(on bool) EnvOption {
	return func(c *envConfig) error {
		c.noNative = !on
		return nil
	}
}

// Schema replaces the default health schema with the given variables.
// Rules of such an Env are evaluated with EvaluateVars; the domain functions
// of the health schema are not available. `now` is always declared.
func Schema(vars ...Variable) EnvOption {
	return func(c *envConfig) error {
		seen := map[string]bool{"now": true}
		for i, v := range vars {
			if !validIdent(v.Name) {
				return fmt.Errorf("%w: Schema: variable %d: name %q is not a CEL identifier", ErrBadOption, i, v.Name)
			}
			if seen[v.Name] {
				return fmt.Errorf("%w: Schema: variable %q declared twice (or shadows now)", ErrBadOption, v.Name)
			}
			if v.Type == nil {
				return fmt.Errorf("%w: Schema: variable %q has no type", ErrBadOption, v.Name)
			}
			seen[v.Name] = true
		}
		c.custom = true
		c.vars = append([]Variable(nil), vars...)
		return nil
	}
}

// WithColour defines a colour, or changes the severity of a known one.
// Severities must be distinct; the higher the more severe (green 0, yellow
// 10, red 20 by default).
func WithColour(name Colour, severity int) EnvOption {
	return func(c *envConfig) error {
		if !validIdent(string(name)) {
			return fmt.Errorf("%w: WithColour: %q is not a valid colour name", ErrBadOption, name)
		}
		c.colours[name] = severity
		return nil
	}
}

// CostBudget sets the static worst-case cost a rule may have; rules over it
// fail to compile with ErrCostBudget. Zero means DefaultCostBudget.
func CostBudget(n uint64) EnvOption {
	return func(c *envConfig) error {
		if n > 0 {
			c.budget = n
		}
		return nil
	}
}

// CostLimit sets the runtime cost limit of rules that contain
// comprehensions. Zero means DefaultCostLimit. It must not be below the
// budget.
func CostLimit(n uint64) EnvOption {
	return func(c *envConfig) error {
		if n > 0 {
			c.limit = n
		}
		return nil
	}
}

// InterruptCheckFrequency sets how many comprehension iterations pass
// between checks of the evaluation's ctx. Zero means the default.
func InterruptCheckFrequency(n uint) EnvOption {
	return func(c *envConfig) error {
		if n > 0 {
			c.interrupt = n
		}
		return nil
	}
}

// MaxRules bounds the number of rules in a set. Zero means DefaultMaxRules;
// negative is an error.
func MaxRules(n int) EnvOption {
	return func(c *envConfig) error {
		if n < 0 {
			return fmt.Errorf("%w: MaxRules: %d is negative", ErrBadOption, n)
		}
		if n > 0 {
			c.maxRules = n
		}
		return nil
	}
}

// Env declares the facts rules may read, the functions they may call, the
// colours they may assign and the cost bounds they must respect. Build one
// with NewEnv and compile any number of rule sets with it.
//
// An *Env is immutable and safe for concurrent use.
type Env struct {
	cel        *cel.Env
	custom     bool
	vars       map[string]uint64 // declared size per variable, for the estimator
	colours    map[Colour]int
	budget     uint64
	limit      uint64
	interrupt  uint
	maxRules   int
	maxExpr    int
	native     bool
	costOpts   []cost.Option
	optimizer  *cel.StaticOptimizer
	evaluators sync.Pool // *evaluator
}

// NewEnv builds an Env. Without Schema it declares the default health schema
// (see the package documentation for its variables and functions).
func NewEnv(opts ...EnvOption) (*Env, error) {
	c := &envConfig{
		colours:   map[Colour]int{Green: 0, Yellow: 10, Red: 20},
		budget:    DefaultCostBudget,
		limit:     DefaultCostLimit,
		interrupt: DefaultInterruptCheckFrequency,
		maxRules:  DefaultMaxRules,
		maxExpr:   DefaultMaxExpressionLength,
	}
	for i, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: NewEnv: option %d is nil", ErrBadOption, i)
		}
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if c.limit < c.budget {
		return nil, fmt.Errorf("%w: NewEnv: cost limit %d is below the cost budget %d", ErrBadOption, c.limit, c.budget)
	}
	bySeverity := map[int]Colour{}
	for name, sev := range c.colours {
		if other, dup := bySeverity[sev]; dup {
			a, b := sortedPair(name, other)
			return nil, fmt.Errorf("%w: NewEnv: colours %q and %q have the same severity %d", ErrBadOption, a, b, sev)
		}
		bySeverity[sev] = name
	}
	e := &Env{
		custom:    c.custom,
		vars:      map[string]uint64{},
		colours:   c.colours,
		budget:    c.budget,
		limit:     c.limit,
		interrupt: c.interrupt,
		maxRules:  c.maxRules,
		maxExpr:   c.maxExpr,
		native:    !c.custom && !c.noNative,
	}
	celOpts := []cel.EnvOption{
		cel.Variable("now", cel.TimestampType),
		cel.ParserExpressionSizeLimit(c.maxExpr),
	}
	if c.custom {
		for _, v := range c.vars {
			celOpts = append(celOpts, cel.Variable(v.Name, v.Type))
			e.vars[v.Name] = sizeOr(v.MaxSize)
		}
	} else {
		celOpts = append(celOpts, healthOptions()...)
		for _, v := range healthVariables {
			e.vars[v.Name] = sizeOr(v.MaxSize)
		}
		e.costOpts = healthCostOptions(e.vars)
	}
	ce, err := cel.NewEnv(celOpts...)
	if err != nil {
		return nil, fmt.Errorf("%w: NewEnv: %w", ErrBadOption, err)
	}
	e.cel = ce
	folder, err := cel.NewConstantFoldingOptimizer()
	if err != nil {
		return nil, fmt.Errorf("rules: NewEnv: %w", err)
	}
	if e.optimizer, err = cel.NewStaticOptimizer(folder); err != nil {
		return nil, fmt.Errorf("rules: NewEnv: %w", err)
	}
	e.evaluators.New = func() any { return newEvaluator(e) }
	return e, nil
}

// Severity returns the severity of a colour and whether the Env knows it.
func (e *Env) Severity(c Colour) (int, bool) {
	s, ok := e.colours[c]
	return s, ok
}

// Colours returns the Env's colours from least to most severe.
func (e *Env) Colours() []Colour {
	cs := make([]Colour, 0, len(e.colours))
	for c := range e.colours {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return e.colours[cs[i]] < e.colours[cs[j]] })
	return cs
}

// HealthSchema reports whether the Env declares the default health schema
// (and so evaluates Facts) rather than a custom one.
func (e *Env) HealthSchema() bool { return !e.custom }

func sizeOr(n uint64) uint64 {
	if n == 0 {
		return DefaultMaxSize
	}
	return n
}

func sortedPair(a, b Colour) (Colour, Colour) {
	if b < a {
		return b, a
	}
	return a, b
}

func validIdent(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// healthVariables are the variables of the default health schema.
var healthVariables = []Variable{
	{Name: "now", Type: cel.TimestampType},
	{Name: "tests", Type: cel.ListType(cel.ObjectType(testTypeName))},
	{Name: "travel", Type: cel.ListType(cel.ObjectType(visitTypeName))},
	{Name: "contact_kind", Type: cel.StringType, MaxSize: 16},
	{Name: "contact_last_exposure", Type: cel.TimestampType},
	{Name: "contact_identified", Type: cel.TimestampType},
	{Name: "vaccine_doses", Type: cel.IntType},
	{Name: "entry_status", Type: cel.StringType, MaxSize: 16},
	{Name: "manual_flags", Type: cel.ListType(cel.StringType), MaxSize: 16},
}

const (
	testTypeName  = "rules.Test"
	visitTypeName = "rules.Visit"
)

func healthOptions() []cel.EnvOption {
	opts := []cel.EnvOption{
		ext.NativeTypes(reflect.TypeFor[Test](), reflect.TypeFor[Visit](), ext.ParseStructTags(true)),
		cel.Variable(factsVar, factsType),
		cel.Variable(factsPCRVar, factsType),
		cel.Variable(factsAntigenVar, factsType),
	}
	for _, v := range healthVariables[1:] {
		opts = append(opts, cel.Variable(v.Name, v.Type))
	}
	return append(opts, domainFunctions()...)
}

// sizeEstimator gives the static cost estimate the declared sizes of the
// schema's variables.
type sizeEstimator struct{ sizes map[string]uint64 }

func (s sizeEstimator) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	p := n.Path()
	if len(p) == 0 {
		return nil
	}
	sz, ok := s.sizes[p[0]]
	if !ok {
		return nil
	}
	if len(p) > 1 {
		sz = DefaultMaxSize
	}
	return &cost.SizeEstimate{Min: 0, Max: sz}
}

func (s sizeEstimator) EstimateCallCost(function, overloadID string, target *cost.AstNode, args []cost.AstNode) *cost.CallEstimate {
	return nil
}
