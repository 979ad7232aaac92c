// Package template compiles and evaluates JSONPath-mode payload templates:
// Parameters, ResultSelector, ItemSelector and Assign, whose keys ending in
// ".$" take their value from a path or an intrinsic function.
package template

import (
	"github.com/kstates/kstates/internal/engine/intrinsics"
	"github.com/kstates/kstates/internal/engine/jsonpath"
)

// CONTRACT STUB (to be replaced by the implementation; signatures are fixed).

// Template is a compiled payload template.
type Template struct{ v any }

// Compile compiles a template (any JSON value). The error names the field
// (as a JSON pointer relative to the template) whose path or intrinsic is
// malformed.
func Compile(v any) (*Template, error) { return &Template{v: v}, nil }

// Eval builds the payload. Errors are *FieldError.
func (t *Template) Eval(s *jsonpath.Scope, env *intrinsics.Env) (any, error) { return t.v, nil }

// FieldError says which ".$" field failed and why; Err is a jsonpath error
// (errors.Is(err, jsonpath.ErrNoMatch)) or an *intrinsics.Error.
type FieldError struct {
	Field string // the key as written, e.g. "name.$"
	Expr  string // the path or intrinsic source
	Err   error
}

func (e *FieldError) Error() string { return "field " + e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }
