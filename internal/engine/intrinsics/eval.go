package intrinsics

import (
	"fmt"
	"math"

	"github.com/kstates/kstates/internal/engine/jsonpath"
	"github.com/kstates/kstates/internal/engine/value"
)

// Eval evaluates the call. Errors are *Error (States.IntrinsicFailure) or
// path errors from the jsonpath package.
func (c *Call) Eval(s *jsonpath.Scope, env *Env) (any, error) {
	var buf [4]any
	args := buf[:0]
	for _, a := range c.args {
		switch {
		case a.path != nil:
			v, err := a.path.Get(s)
			if err != nil {
				return nil, err
			}
			args = append(args, v)
		case a.call != nil:
			v, err := a.call.Eval(s, env)
			if err != nil {
				return nil, err
			}
			args = append(args, v)
		case a.err != nil:
			return nil, a.err
		default:
			args = append(args, a.lit)
		}
	}
	if err := c.fn.checkTypes(args); err != nil {
		return nil, err
	}
	return c.fn.eval(c, args, env)
}

// kind is a set of accepted argument types.
type kind uint8

const (
	kNull kind = 1 << iota
	kBool
	kNumber
	kString
	kArray
	kObject
	kInt // a number with an integral value
	kAny = kNull | kBool | kNumber | kString | kArray | kObject
)

func (k kind) String() string {
	switch k {
	case kString:
		return "a string"
	case kInt:
		return "an integer"
	case kNumber:
		return "a number"
	case kBool:
		return "a boolean"
	case kArray:
		return "an array"
	case kObject:
		return "an object"
	}
	return "a value"
}

func accepts(k kind, v any) bool {
	if k == kAny {
		return true
	}
	switch t := v.(type) {
	case nil:
		return k&kNull != 0
	case bool:
		return k&kBool != 0
	case string:
		return k&kString != 0
	case []any:
		return k&kArray != 0
	case map[string]any:
		return k&kObject != 0
	case int64:
		return k&(kNumber|kInt) != 0
	case float64:
		if k&kNumber != 0 {
			return true
		}
		return k&kInt != 0 && t == math.Trunc(t) && math.Abs(t) < 1<<53
	}
	return false
}

// function describes one intrinsic: its name, how many arguments it takes,
// the type of each, and its evaluation.
type function struct {
	name     string
	min, max int    // max < 0: any number
	kinds    []kind // per argument; the last repeats
	eval     func(c *Call, args []any, env *Env) (any, error)
	// static, when set, checks literal arguments further at parse time.
	static func(c *Call) error
}

func (f *function) kindOf(i int) kind {
	if len(f.kinds) == 0 {
		return kAny
	}
	if i >= len(f.kinds) {
		return f.kinds[len(f.kinds)-1]
	}
	return f.kinds[i]
}

func plural(n int) string {
	if n == 1 {
		return "1 argument"
	}
	return fmt.Sprintf("%d arguments", n)
}

// checkStatic checks the argument count and literal argument types.
func (f *function) checkStatic(c *Call) error {
	n := len(c.args)
	switch {
	case f.max == f.min && n != f.min:
		return fmt.Errorf("%s takes %s, but %d were given", f.name, plural(f.min), n)
	case n < f.min:
		return fmt.Errorf("%s takes at least %s, but %d were given", f.name, plural(f.min), n)
	case f.max >= 0 && n > f.max:
		return fmt.Errorf("%s takes at most %s, but %d were given", f.name, plural(f.max), n)
	}
	for i, a := range c.args {
		if a.path == nil && a.call == nil && !accepts(f.kindOf(i), a.lit) {
			return fmt.Errorf("%s expects argument %d to be %s, but it is %s", f.name, i+1, f.kindOf(i), describe(a.lit))
		}
	}
	if f.static != nil {
		return f.static(c)
	}
	return nil
}

// checkTypes checks evaluated argument types.
func (f *function) checkTypes(args []any) error {
	for i, v := range args {
		if !accepts(f.kindOf(i), v) {
			return failf("%s expects argument %d to be %s, but it is %s", f.name, i+1, f.kindOf(i), describe(v))
		}
	}
	return nil
}

// describe names a value's type and shows it (shortened) for messages.
func describe(v any) string {
	s := value.MarshalString(v)
	if len(s) > 100 {
		s = s[:100] + "..."
	}
	t := value.TypeName(v)
	if t == "array" || t == "object" {
		return "an " + t + ": " + s
	}
	if t == "null" {
		return "null"
	}
	return "a " + t + ": " + s
}

func failf(format string, a ...any) error { return &Error{Message: fmt.Sprintf(format, a...)} }

// toInt converts an argument accepted as kInt.
func toInt(v any) int64 {
	switch t := v.(type) {
	case int64:
		return t
	case float64:
		return int64(t)
	}
	return 0
}
