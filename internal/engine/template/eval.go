package template

import (
	"fmt"

	"github.com/kstates/kstates/internal/engine/intrinsics"
	"github.com/kstates/kstates/internal/engine/jsonpath"
)

// Eval builds the payload. Errors are *FieldError.
func (t *Template) Eval(s *jsonpath.Scope, env *intrinsics.Env) (any, error) {
	return t.root.eval(s, env)
}

func (n *node) eval(s *jsonpath.Scope, env *intrinsics.Env) (any, error) {
	switch n.kind {
	case constant:
		return n.lit, nil
	case object:
		out := make(map[string]any, len(n.fields))
		for i := range n.fields {
			f := &n.fields[i]
			var v any
			var err error
			switch f.node.kind {
			case pathExpr:
				v, err = f.node.path.Get(s)
				if err != nil {
					return nil, &FieldError{Field: f.key, Pointer: f.ptr, Expr: f.node.path.String(), Err: err}
				}
			case callExpr:
				v, err = f.node.call.Eval(s, env)
				if err != nil {
					return nil, &FieldError{Field: f.key, Pointer: f.ptr, Expr: f.node.call.String(), Err: err}
				}
			default:
				v, err = f.node.eval(s, env)
				if err != nil {
					return nil, err
				}
			}
			out[f.out] = v
		}
		return out, nil
	case array:
		out := make([]any, len(n.items))
		for i, it := range n.items {
			v, err := it.eval(s, env)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	return nil, fmt.Errorf("template: bad node kind %d", n.kind)
}

// FieldError says which ".$" field failed and why; Err is a jsonpath error
// (errors.Is(err, jsonpath.ErrNoMatch)) or an *intrinsics.Error.
type FieldError struct {
	Field   string // the key as written, e.g. "name.$"
	Expr    string // the path or intrinsic source
	Err     error
	Pointer string // the field as a JSON pointer relative to the template, e.g. "/a/name.$"
}

func (e *FieldError) Error() string { return "field " + e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }
