package rules

import "cel.dev/cel-go/cel"

var (
	celInt    = cel.IntType
	celString = cel.StringType
)
