// Package jsonata implements the JSONata 2.0.6 query and transformation
// language (https://jsonata.org) in pure Go.
//
// Values use the Go JSON model: nil (null), bool, float64 (int, int64 and
// other integer types are accepted on input), string, []any, map[string]any
// and *Object (an insertion-ordered object). Results use nil for null, []any
// for arrays and *Object for objects (use (*Object).ToMap or Plain to get
// plain maps); the sentinel Undefined stands for JSONata's `undefined`.
// Prepare converts an input once for repeated evaluations. docs/jsonata.md
// describes the implementation and its differences from jsonata-js.
package jsonata

import (
	"time"
)

// Expr is a compiled JSONata expression. It is immutable and safe for
// concurrent use by multiple goroutines.
type Expr struct {
	src string
	ast *node
}

// Function is a host function callable from expressions. It receives its
// arguments in the public value model (Undefined for missing arguments) and
// returns a value in that model.
type Function func(args ...any) (any, error)

type config struct {
	maxDepth int
	timeout  time.Duration
	funcs    map[string]*Builtin
	fset     *Functions
	bindings *Bindings
	now      time.Time
}

// Option configures one evaluation.
type Option func(*config)

// internalErrorCode reports an evaluator bug (a recovered panic); it is not a JSONata code.
const internalErrorCode = "X0000"

// DefaultMaxDepth bounds the nesting of evaluation when WithMaxDepth is not given.
const DefaultMaxDepth = 10000

// WithMaxDepth limits the evaluation depth (nested expression evaluations);
// exceeding it fails with U1001. Zero or negative means DefaultMaxDepth.
func WithMaxDepth(n int) Option { return func(c *config) { c.maxDepth = n } }

// WithTimeout limits the evaluation time; exceeding it fails with U1001.
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithNow fixes the evaluation timestamp used by $now() and $millis().
func WithNow(t time.Time) Option { return func(c *config) { c.now = t } }

// WithFunction adds (or overrides) a function `$name`. An optional JSONata
// signature (for example "<s-n?:s>") validates the arguments before the call.
// The option builds the function each time an evaluation applies it (parsed
// signatures are cached); a Functions set from NewFunctions, registered
// with WithFunctions, costs an evaluation nothing.
func WithFunction(name string, fn Function, signature ...string) Option {
	return func(c *config) {
		if c.funcs == nil {
			c.funcs = map[string]*Builtin{}
		}
		b := &Builtin{name: name, arity: -1, ext: fn}
		if len(signature) > 0 && signature[0] != "" {
			s, err := cachedSignature(signature[0])
			if err != nil {
				// an invalid signature makes every call fail with the signature error
				b.ext = func(...any) (any, error) {
					return nil, &Error{Code: err.Code, Position: -1, Value: signature[0], Message: "invalid signature for $" + name + ": " + signature[0]}
				}
			} else {
				b.sig = s
				b.arity = len(s.params)
			}
		}
		c.funcs[name] = b
	}
}

// Compile parses an expression. Syntax errors are returned as *Error.
func Compile(expr string) (e *Expr, err error) {
	ast, err := parse(expr)
	if err != nil {
		return nil, err
	}
	return &Expr{src: expr, ast: ast}, nil
}

// MustCompile is like Compile but panics on error.
func MustCompile(expr string) *Expr {
	e, err := Compile(expr)
	if err != nil {
		panic(err)
	}
	return e
}

// String returns the source of the expression.
func (e *Expr) String() string { return e.src }

var rootEnv *env

func init() {
	r := &env{vars: map[string]any{}}
	for k, v := range builtins {
		r.vars[k] = v
	}
	rootEnv = r
}

// evalState is what one evaluation allocates up front.
type evalState struct {
	ev    evaluator
	cfg   config
	bound env // the WithBindings frame
	top   env // the bindings argument and $
}

// Evaluate evaluates the expression against input with optional variable
// bindings (names without the leading $). It returns Undefined when the
// expression yields no value. Errors are *Error values.
func (e *Expr) Evaluate(input any, bindings map[string]any, opts ...Option) (result any, err error) {
	// one allocation for the evaluation's state and its top frames
	st := &evalState{}
	cfg := &st.cfg
	for _, o := range opts {
		o(cfg)
	}
	ev := &st.ev
	ev.maxDepth = cfg.maxDepth
	if ev.maxDepth <= 0 {
		ev.maxDepth = DefaultMaxDepth
	}
	if cfg.timeout > 0 {
		ev.hasLimit = true
		ev.deadline = time.Now().Add(cfg.timeout)
	}
	ev.timestamp = cfg.now
	if ev.timestamp.IsZero() {
		ev.timestamp = time.Now()
	}
	base := rootEnv
	if cfg.fset != nil {
		base = cfg.fset.env
	}
	if len(cfg.funcs) > 0 {
		base = newEnv(base)
		for k, f := range cfg.funcs {
			base.bind(k, f)
		}
	}
	if cfg.bindings != nil && len(cfg.bindings.vars) > 0 {
		// shared read-only: evaluation binds only in top and deeper frames
		st.bound = env{vars: cfg.bindings.vars, parent: base}
		base = &st.bound
	}
	top := &st.top
	top.parent = base
	for k, v := range bindings {
		top.bind(k, toInternal(v))
	}
	in := toInternal(input)
	top.root, top.hasRoot = in, true
	if a, ok := in.(*Array); ok && !a.seq {
		in = &Array{items: []any{a}, seq: true, outerWrapper: true}
	}
	defer func() {
		if r := recover(); r != nil {
			result = nil
			err = &Error{Code: internalErrorCode, Position: 0, Message: "internal error: " + sprint(r)}
		}
	}()
	res, err := ev.eval(e.ast, in, top)
	if err != nil {
		if ee, ok := err.(*Error); ok {
			if ee.Position < 0 {
				ee.Position = 0
			}
			if ee.Message == "" {
				ee.Message = ee.describe()
			}
			if ee.Value != nil {
				ee.Value = fromInternal(ee.Value)
			}
			if ee.Value2 != nil {
				ee.Value2 = fromInternal(ee.Value2)
			}
		}
		return nil, err
	}
	return fromInternal(res), nil
}

// Plain converts a result into plain Go values (map[string]any instead of *Object).
func Plain(v any) any { return plain(v) }
