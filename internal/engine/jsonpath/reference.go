package jsonpath

import (
	"fmt"

	"github.com/kstates/kstates/internal/engine/value"
)

// Reference is a compiled reference path (ResultPath): definite, over "$"
// only, made of .name, ['name'] and [n] steps.
type Reference struct {
	src  string
	segs []seg
}

// CompileReference parses a reference path. Context ("$$") and variable
// ("$name") roots, wildcards, filters, slices, unions, deep scan and negative
// indexes are rejected with a *SyntaxError.
func CompileReference(src string) (*Reference, error) {
	r, _, i, err := splitRoot(src)
	if err != nil {
		return nil, err
	}
	if r != rootInput {
		return nil, &SyntaxError{Src: src, Offset: 1, Msg: "a reference path must start with '$.' or '$['"}
	}
	segs, err := parseDefinite(src, i)
	if ei, ok := err.(errIndefinite); ok {
		return nil, &SyntaxError{Src: src, Offset: ei.offset, Msg: "a reference path allows only .name, ['name'] and [n] (no wildcards, filters, slices, unions or '..')"}
	}
	if err != nil {
		return nil, err
	}
	for _, s := range segs {
		if s.isIndex && s.index < 0 {
			return nil, &SyntaxError{Src: src, Offset: i, Msg: "a reference path cannot use a negative index"}
		}
	}
	return &Reference{src: src, segs: segs}, nil
}

// MustCompileReference is CompileReference that panics on error.
func MustCompileReference(src string) *Reference {
	r, err := CompileReference(src)
	if err != nil {
		panic(err)
	}
	return r
}

// String returns the source text.
func (r *Reference) String() string { return r.src }

// Set returns doc with value placed at the reference, creating intermediate
// objects as needed. doc is not modified (copy on write: the objects and
// arrays along the path are copied shallowly). The error is a *SetError when
// the path goes through a value that is not an object (for a name) or an
// array (for an index), or when an index is out of range.
func (r *Reference) Set(doc, v any) (any, error) {
	return r.set(doc, 0, v)
}

func (r *Reference) set(cur any, i int, v any) (any, error) {
	if i == len(r.segs) {
		return v, nil
	}
	sg := r.segs[i]
	if !sg.isIndex {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, &SetError{Path: r.src, Msg: fmt.Sprintf("%s is %s, not an object", normalized("$", r.segs[:i]), value.TypeName(cur))}
		}
		child, exists := m[sg.key]
		if !exists && i+1 < len(r.segs) {
			if r.segs[i+1].isIndex {
				return nil, &SetError{Path: r.src, Msg: fmt.Sprintf("%s does not exist", normalized("$", r.segs[:i+1]))}
			}
			child = map[string]any{}
		}
		nv, err := r.set(child, i+1, v)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(m)+1)
		for k, x := range m {
			out[k] = x
		}
		out[sg.key] = nv
		return out, nil
	}
	a, ok := cur.([]any)
	if !ok {
		return nil, &SetError{Path: r.src, Msg: fmt.Sprintf("%s is %s, not an array", normalized("$", r.segs[:i]), value.TypeName(cur))}
	}
	if sg.index >= len(a) {
		return nil, &SetError{Path: r.src, Msg: fmt.Sprintf("index %d is out of range for %s (length %d)", sg.index, normalized("$", r.segs[:i]), len(a))}
	}
	nv, err := r.set(a[sg.index], i+1, v)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(a))
	copy(out, a)
	out[sg.index] = nv
	return out, nil
}
