// Package intrinsics parses and evaluates the ASL intrinsic functions
// (States.Format, States.StringToJson, ..., States.UUID) of JSONPath mode.
//
// Syntax: a call is States.Name( args ), args separated by commas; an
// argument is a nested call, a string literal in single quotes, a number,
// true, false, null, or a path ("$.x", "$$.x", "$var.x"). In string literals
// the reserved characters ' { } \ are escaped with a backslash; a backslash
// before any other character is kept as it is. In a States.Format template
// an unescaped "{}" is a placeholder and "\{" "\}" are literal braces. Calls
// nest at most MaxNesting deep, as on AWS.
//
// Parse checks the function name and, where AWS's rules fix it, the number of
// arguments and the type of literal arguments; Eval checks the types of the
// values paths produce. Evaluation failures are *Error and become
// States.IntrinsicFailure; path failures are the jsonpath package's errors.
//
// Nondeterminism comes from Env: States.UUID calls Env.UUID and an unseeded
// States.MathRandom calls Env.Int63n. A seeded States.MathRandom(start, end,
// seed) is deterministic: it returns start + r.nextInt(end-start) where r is
// java.util.Random seeded with seed (the generator of the AWS service's JVM),
// implemented here bit for bit.
package intrinsics

import (
	"strings"

	"github.com/kstates/kstates/internal/engine/jsonpath"
)

// MaxNesting is how deeply intrinsic calls may nest within one field.
const MaxNesting = 10

// Env supplies the nondeterministic inputs of States.UUID and
// States.MathRandom so that runs are reproducible in tests.
type Env struct {
	// UUID returns a new random (version 4) UUID string.
	UUID func() string
	// Int63n returns a pseudo-random number in [0, n); used by States.MathRandom
	// without a seed.
	Int63n func(n int64) int64
}

// Call is a parsed intrinsic function call.
type Call struct {
	src  string
	fn   *function
	args []arg
}

// arg is one argument: exactly one of the fields is set (lit is valid when
// neither path nor call is set).
type arg struct {
	lit    any
	pieces []string // for a string literal: the text split at unescaped "{}"
	path   *jsonpath.Path
	call   *Call
	src    string
	err    error // a literal that fails when evaluated (an open escape)
}

// IsIntrinsic reports whether a ".$" value is an intrinsic call rather than a
// path (it starts with "States.").
func IsIntrinsic(src string) bool { return strings.HasPrefix(src, "States.") }

// String returns the source text.
func (c *Call) String() string { return c.src }

// Name returns the function's name, for example "States.Format".
func (c *Call) Name() string { return c.fn.name }

// Paths returns every path argument of the call and of its nested calls, in
// source order (for validators that check variable references).
func (c *Call) Paths() []*jsonpath.Path {
	var out []*jsonpath.Path
	for _, a := range c.args {
		switch {
		case a.path != nil:
			out = append(out, a.path)
		case a.call != nil:
			out = append(out, a.call.Paths()...)
		}
	}
	return out
}

// Error is an intrinsic function failure: States.IntrinsicFailure.
type Error struct{ Message string }

func (e *Error) Error() string { return e.Message }
