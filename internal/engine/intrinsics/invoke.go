package intrinsics

import "fmt"

// Invoke calls the intrinsic function name (for example "States.ArrayRange")
// on arguments that are already values, with the same argument rules and
// failures as a parsed call. It lets other evaluators (the JSONata
// functions $partition, $range, $hash, $random, $uuid that Step Functions
// adds) share these implementations. Errors are *Error.
func Invoke(name string, args []any, env *Env) (any, error) {
	fn := functions[name]
	if fn == nil {
		return nil, &Error{Message: fmt.Sprintf("unknown intrinsic function %s", name)}
	}
	c := &Call{src: name + "(...)", fn: fn, args: make([]arg, len(args))}
	for i, a := range args {
		c.args[i] = arg{lit: a}
	}
	if err := fn.checkStatic(c); err != nil {
		if e, ok := err.(*Error); ok {
			return nil, e
		}
		return nil, &Error{Message: err.Error()}
	}
	return fn.eval(c, args, env)
}
