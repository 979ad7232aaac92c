// Package template compiles and evaluates JSONPath-mode payload templates:
// Parameters, ResultSelector, ItemSelector and Assign, whose keys ending in
// ".$" take their value from a path or an intrinsic function.
//
// A template is any JSON value. In an object, a key ending in ".$" must have
// a string value that is a path ("$.x", "$$.x", "$var") or an intrinsic call
// ("States.Format(...)"); the output key drops the ".$". Other keys and all
// other values are copied as they are, recursing through nested objects and
// arrays.
//
// Compile parses every path and intrinsic once; Eval only walks the compiled
// tree. Parts of the template without ".$" fields are built once at Compile
// and shared by every output: outputs must be treated as immutable (the
// engine copies on write), like every value in the engine.
package template

import (
	"fmt"
	"sort"
	"strings"

	"github.com/kstates/kstates/internal/engine/intrinsics"
	"github.com/kstates/kstates/internal/engine/jsonpath"
	"github.com/kstates/kstates/internal/engine/value"
)

// Template is a compiled payload template.
type Template struct {
	root *node
}

type nodeKind uint8

const (
	constant nodeKind = iota // lit, shared
	object
	array
	pathExpr
	callExpr
)

type node struct {
	kind   nodeKind
	lit    any
	fields []field
	items  []*node
	path   *jsonpath.Path
	call   *intrinsics.Call
}

type field struct {
	out  string // output key
	key  string // key as written
	ptr  string // JSON pointer of the field
	node *node
}

// CompileError says which field of a template is malformed. Pointer is a JSON
// pointer relative to the template (for example "/a/b.$").
type CompileError struct {
	Pointer string
	Expr    string
	Err     error
}

func (e *CompileError) Error() string {
	return fmt.Sprintf("field %q: %v", e.Pointer, e.Err)
}

func (e *CompileError) Unwrap() error { return e.Err }

// Compile compiles a template (any JSON value). The error is a *CompileError
// naming the field (as a JSON pointer relative to the template) whose path or
// intrinsic is malformed, whose ".$" value is not a string, or whose output
// key is given twice.
func Compile(v any) (*Template, error) {
	n, err := compile(v, "")
	if err != nil {
		return nil, err
	}
	return &Template{root: n}, nil
}

// MustCompile is Compile that panics on error.
func MustCompile(v any) *Template {
	t, err := Compile(v)
	if err != nil {
		panic(err)
	}
	return t
}

func compile(v any, ptr string) (*node, error) {
	switch t := v.(type) {
	case map[string]any:
		n := &node{kind: object}
		dynamic := false
		seen := make(map[string]string, len(t))
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			x := t[k]
			fptr := ptr + "/" + escapePointer(k)
			out := k
			var child *node
			if strings.HasSuffix(k, ".$") {
				out = k[:len(k)-2]
				s, ok := x.(string)
				if !ok {
					return nil, &CompileError{Pointer: fptr, Err: fmt.Errorf("the value of a field ending in \".$\" must be a string holding a path or an intrinsic function, not %s", value.TypeName(x))}
				}
				var err error
				if child, err = compileExpr(s); err != nil {
					return nil, &CompileError{Pointer: fptr, Expr: s, Err: err}
				}
			} else {
				var err error
				if child, err = compile(x, fptr); err != nil {
					return nil, err
				}
			}
			if other, dup := seen[out]; dup {
				a, b := other, k
				if a > b {
					a, b = b, a
				}
				return nil, &CompileError{Pointer: ptr + "/" + escapePointer(b), Err: fmt.Errorf("the fields %q and %q both produce the key %q", a, b, out)}
			}
			seen[out] = k
			if child.kind != constant {
				dynamic = true
			}
			n.fields = append(n.fields, field{out: out, key: k, ptr: fptr, node: child})
		}
		if !dynamic {
			return constNode(t), nil
		}
		return n, nil
	case []any:
		n := &node{kind: array, items: make([]*node, len(t))}
		dynamic := false
		for i, x := range t {
			child, err := compile(x, fmt.Sprintf("%s/%d", ptr, i))
			if err != nil {
				return nil, err
			}
			if child.kind != constant {
				dynamic = true
			}
			n.items[i] = child
		}
		if !dynamic {
			return constNode(t), nil
		}
		return n, nil
	}
	return &node{kind: constant, lit: v}, nil
}

// constNode keeps a constant part of the template; it is copied once so that
// later changes to the caller's document cannot leak into outputs.
func constNode(v any) *node { return &node{kind: constant, lit: value.Copy(v)} }

func compileExpr(s string) (*node, error) {
	if intrinsics.IsIntrinsic(s) {
		c, err := intrinsics.Parse(s)
		if err != nil {
			return nil, err
		}
		return &node{kind: callExpr, call: c}, nil
	}
	if !strings.HasPrefix(s, "$") {
		return nil, fmt.Errorf("%q is neither a path (starting with $) nor an intrinsic function (starting with States.)", s)
	}
	p, err := jsonpath.Compile(s)
	if err != nil {
		return nil, err
	}
	return &node{kind: pathExpr, path: p}, nil
}

// escapePointer escapes a key for a JSON pointer (RFC 6901).
func escapePointer(k string) string {
	if !strings.ContainsAny(k, "~/") {
		return k
	}
	return strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
}
