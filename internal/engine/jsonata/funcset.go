package jsonata

import (
	"sort"
	"sync"
)

// FunctionDef defines one host function of a Functions set: the name
// without the "$", the implementation, and an optional JSONata signature
// (for example "<s-n?:s>"). A signature validates the arguments before the
// call and, where a parameter is marked "-", supplies the context value
// as that argument when it is left out (so `'x'.$f()` calls $f('x')).
type FunctionDef struct {
	Name      string
	Fn        Function
	Signature string
}

// Functions is a precompiled set of host functions: the signatures are
// parsed and the bindings built once by NewFunctions, so registering the
// set with WithFunctions costs an evaluation nothing beyond a pointer. A
// Functions value is immutable and safe for concurrent use.
type Functions struct {
	env   *env
	names []string
}

// NewFunctions parses the signatures of defs and returns the set. A later
// definition of a name replaces an earlier one; a definition named like a
// built-in function replaces the built-in for evaluations using the set.
// An invalid signature is an *Error (code S0401 or S0402).
func NewFunctions(defs ...FunctionDef) (*Functions, error) {
	fs := &Functions{env: newEnv(rootEnv)}
	fs.env.vars = make(map[string]any, len(defs))
	for _, d := range defs {
		b := &Builtin{name: d.Name, arity: -1, ext: d.Fn}
		if d.Signature != "" {
			s, err := cachedSignature(d.Signature)
			if err != nil {
				e := *err
				e.Position = -1
				e.Message = "invalid signature for $" + d.Name + ": " + d.Signature
				return nil, &e
			}
			b.sig = s
			b.arity = len(s.params)
		}
		if _, dup := fs.env.vars[d.Name]; !dup {
			fs.names = append(fs.names, d.Name)
		}
		fs.env.vars[d.Name] = b
	}
	sort.Strings(fs.names)
	return fs, nil
}

// MustNewFunctions is like NewFunctions but panics on an invalid signature.
func MustNewFunctions(defs ...FunctionDef) *Functions {
	fs, err := NewFunctions(defs...)
	if err != nil {
		panic(err)
	}
	return fs
}

// Names returns the sorted names (without "$") of the set's functions.
func (fs *Functions) Names() []string {
	if fs == nil {
		return nil
	}
	return append([]string(nil), fs.names...)
}

// Has reports whether the set defines $name.
func (fs *Functions) Has(name string) bool {
	if fs == nil {
		return false
	}
	_, ok := fs.env.vars[name]
	return ok
}

// WithFunctions registers a precompiled function set for one evaluation.
// The last WithFunctions option wins; WithFunction options given as well
// are layered on top of the set.
func WithFunctions(fs *Functions) Option { return func(c *config) { c.fset = fs } }

// signatures caches parsed signatures by their text: a parsed signature
// is immutable, and parsing compiles a regular expression.
var signatures sync.Map // string -> *signature or *Error

func cachedSignature(def string) (*signature, *Error) {
	if v, ok := signatures.Load(def); ok {
		if s, ok := v.(*signature); ok {
			return s, nil
		}
		return nil, v.(*Error)
	}
	s, err := parseSignature(def)
	if err != nil {
		signatures.Store(def, err)
		return nil, err
	}
	v, _ := signatures.LoadOrStore(def, s)
	return v.(*signature), nil
}

// Bindings is a set of variable bindings (names without the "$") converted
// once by NewBindings, for evaluating several expressions, or one
// expression many times, with the same variables: registered with
// WithBindings, they cost an evaluation no conversion and no copying. A
// Bindings value is immutable and safe for concurrent use.
type Bindings struct {
	vars map[string]any
}

// NewBindings converts m (values in the public model, as for Evaluate's
// bindings) once.
func NewBindings(m map[string]any) *Bindings {
	b := &Bindings{vars: make(map[string]any, len(m))}
	for k, v := range m {
		b.vars[k] = toInternal(v)
	}
	return b
}

// WithBindings binds the variables of b for one evaluation, under those of
// Evaluate's bindings argument (which win on a clash) and over the
// functions. The last WithBindings option wins.
func WithBindings(b *Bindings) Option { return func(c *config) { c.bindings = b } }
