// Package jsonpath compiles and evaluates the paths of the Amazon States
// Language in JSONPath mode.
//
// A path starts at one of three roots:
//
//	$...      the state's input           ("$", "$.a.b", "$['a b'][0]")
//	$$...     the context object          ("$$.Execution.Id", "$$.Map.Item.Value")
//	$name...  the workflow variable name  ("$total", "$order.items[0]")
//
// After the root come JSONPath segments as AWS (Jayway JsonPath) reads them:
// .name, ['name'] or ["name"], [n] and [-n] (from the end) make a definite
// path, which selects one value; wildcards (.* and [*]), deep scan (..),
// filters ([?(@.x > 1)]), slices ([1:3]) and unions ([0,2], ['a','b']) make an
// indefinite path, which selects a list.
//
// Definite paths are evaluated by a small walker of their own (no
// allocation); indefinite ones by github.com/ohler55/ojg/jp, compiled once.
//
// Semantics, following Jayway JsonPath as AWS uses it:
//   - a definite path returns the value it denotes, or a *NoMatchError
//     (errors.Is(err, ErrNoMatch)) naming the missing part in Jayway's words;
//   - an indefinite path returns a []any of every match, possibly empty: it is
//     not an error for a filter to select nothing;
//   - a variable that is not in scope is an *UndefinedVariableError, which
//     also satisfies errors.Is(err, ErrNoMatch).
//
// Reference paths (ResultPath) are a definite subset over "$" only; Set
// places a value at one, copying on write.
package jsonpath
