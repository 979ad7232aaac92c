// Package intrinsics parses and evaluates the ASL intrinsic functions
// (States.Format, States.StringToJson, ..., States.UUID).
package intrinsics

import "github.com/kstates/kstates/internal/engine/jsonpath"

// CONTRACT STUB (to be replaced by the implementation; signatures are fixed).

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
type Call struct{ src string }

// IsIntrinsic reports whether a ".$" value is an intrinsic call rather than a
// path (it starts with "States.").
func IsIntrinsic(src string) bool { return len(src) > 7 && src[:7] == "States." }

// Parse parses an intrinsic call, with nested calls, string literals with
// escapes, numbers, booleans, null and path arguments.
func Parse(src string) (*Call, error) { return &Call{src: src}, nil }

// String returns the source text.
func (c *Call) String() string { return c.src }

// Eval evaluates the call. Errors are *Error (States.IntrinsicFailure) or
// path errors from the jsonpath package.
func (c *Call) Eval(s *jsonpath.Scope, env *Env) (any, error) {
	return nil, &Error{Message: "not implemented"}
}

// Error is an intrinsic function failure: States.IntrinsicFailure.
type Error struct{ Message string }

func (e *Error) Error() string { return e.Message }
