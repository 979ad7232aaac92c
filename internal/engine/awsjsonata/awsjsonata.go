// Package awsjsonata holds what AWS Step Functions adds to JSONata: the
// functions $partition, $range, $hash, $random (with an optional seed),
// $uuid and $parse, the removal of $eval, and the conversion of JSONata
// results into the engine's value model.
//
// The functions share their argument rules and failures with the
// intrinsic functions they replace (States.ArrayPartition,
// States.ArrayRange, States.Hash, States.MathRandom, States.UUID,
// States.StringToJson) through intrinsics.Invoke. Randomness and UUIDs come
// from an injected Env, so evaluations are reproducible in tests.
package awsjsonata

import (
	"errors"
	"math"
	"math/rand"
	"strings"

	"github.com/kstates/kstates/internal/engine/intrinsics"
	"github.com/kstates/kstates/internal/engine/jsonata"
	"github.com/kstates/kstates/internal/engine/value"
)

// Env supplies the nondeterministic inputs of $random and $uuid.
type Env struct {
	// UUID returns a new version 4 UUID.
	UUID func() string
	// Int63n returns a pseudo-random number in [0, n).
	Int63n func(n int64) int64
}

// NewFunctions returns AWS's functions for env as a precompiled set (and
// $eval disabled, which Step Functions does not offer): build it once and
// register it with jsonata.WithFunctions on every evaluation, which then
// costs nothing.
//
// The functions declare JSONata signatures, so the context value is the
// implicit first argument where JSONata allows it (`'x'.$hash('MD5')`,
// `$states.input.json.$parse()`), and arguments of the wrong JSONata type
// fail with T0410 before the call; the remaining checks (a chunk size of
// at least 1, a known hash algorithm, ...) are the intrinsic functions'.
func NewFunctions(env Env) *jsonata.Functions {
	return jsonata.MustNewFunctions(Defs(env)...)
}

// Signatures holds the JSONata signature of each function of Names ("" for
// none).
var Signatures = map[string]string{
	"partition": "<j-n:a>",
	"range":     "<nnn:a>",
	"hash":      "<s-s:s>",
	"random":    "<n?:n>",
	"uuid":      "<:s>",
	"parse":     "<s-:j>",
	"eval":      "",
}

// Defs returns the definitions of AWS's functions for env, in the order of
// Names.
func Defs(env Env) []jsonata.FunctionDef {
	ienv := &intrinsics.Env{UUID: env.UUID, Int63n: env.Int63n}
	fns := []jsonata.Function{
		func(args ...any) (any, error) {
			return invoke("$partition", "States.ArrayPartition", ienv, args...)
		},
		func(args ...any) (any, error) {
			return invoke("$range", "States.ArrayRange", ienv, args...)
		},
		func(args ...any) (any, error) {
			return invoke("$hash", "States.Hash", ienv, args...)
		},
		func(args ...any) (any, error) {
			return random(env, args...)
		},
		func(args ...any) (any, error) {
			if len(args) > 0 {
				return nil, errors.New("$uuid: takes no arguments")
			}
			if env.UUID == nil {
				return nil, errors.New("$uuid: no UUID source")
			}
			return env.UUID(), nil
		},
		parse,
		func(...any) (any, error) {
			return nil, &jsonata.Error{Code: "T1006", Position: -1, Message: "Attempted to invoke a non-function"}
		},
	}
	defs := make([]jsonata.FunctionDef, len(Names))
	for i, name := range Names {
		defs[i] = jsonata.FunctionDef{Name: name, Fn: fns[i], Signature: Signatures[name]}
	}
	return defs
}

// Functions returns the evaluation options that register AWS's functions
// (and disable $eval) for env, one option per function. NewFunctions is
// cheaper: each option builds its function on every evaluation.
func Functions(env Env) []jsonata.Option {
	m := FunctionMap(env)
	out := make([]jsonata.Option, 0, len(m))
	for _, name := range Names {
		out = append(out, m[name])
	}
	return out
}

// Names lists the functions Functions registers (without the "$").
var Names = []string{"partition", "range", "hash", "random", "uuid", "parse", "eval"}

// FunctionMap returns the options of Functions by function name.
func FunctionMap(env Env) map[string]jsonata.Option {
	m := make(map[string]jsonata.Option, len(Names))
	for _, d := range Defs(env) {
		m[d.Name] = jsonata.WithFunction(d.Name, d.Fn, d.Signature)
	}
	return m
}

// invoke runs an intrinsic function on JSONata arguments and reports its
// failures under the JSONata function's name.
func invoke(name, intrinsic string, env *intrinsics.Env, args ...any) (any, error) {
	vals := make([]any, 0, len(args))
	for _, a := range args {
		if jsonata.IsUndefined(a) {
			continue
		}
		vals = append(vals, Value(a))
	}
	r, err := intrinsics.Invoke(intrinsic, vals, env)
	if err != nil {
		msg := err.Error()
		var ie *intrinsics.Error
		if errors.As(err, &ie) {
			msg = ie.Message
		}
		return nil, errors.New(strings.ReplaceAll(msg, intrinsic, name))
	}
	return r, nil
}

// random is AWS's $random: a number in [0, 1); with a seed, the same seed
// always gives the same number.
func random(env Env, args ...any) (any, error) {
	if len(args) > 1 {
		return nil, errors.New("$random: takes at most one argument (a seed)")
	}
	if len(args) > 0 && !jsonata.IsUndefined(args[0]) {
		f, ok := args[0].(float64)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, errors.New("$random: the seed must be a number")
		}
		return rand.New(rand.NewSource(int64(f))).Float64(), nil
	}
	if env.Int63n == nil {
		return rand.Float64(), nil
	}
	const n = 1 << 53
	return float64(env.Int63n(n)) / n, nil
}

// parse is AWS's $parse: the value of a JSON text.
func parse(args ...any) (any, error) {
	var s string
	ok := len(args) == 1
	if ok {
		s, ok = args[0].(string)
	}
	if !ok {
		return nil, errors.New("$parse: the argument must be a string")
	}
	v, err := value.ParseString(s)
	if err != nil {
		return nil, errors.New("$parse: the argument is not valid JSON: " + strings.TrimPrefix(err.Error(), "invalid JSON: "))
	}
	return v, nil
}

// Value converts a JSONata result (the jsonata package's public model) into
// the engine's value model: *jsonata.Object becomes map[string]any, and a
// number with an integral value that fits in a float64's exact range
// becomes int64 (JSONata has one number type; Step Functions prints 2, not
// 2.0). Functions and undefined become nil.
func Value(v any) any {
	switch t := v.(type) {
	case nil, bool, string, int64:
		return v
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1<<53 { // -0 too: JSON.stringify(-0) is "0"
			return int64(t)
		}
		return t
	case *jsonata.Object:
		m := make(map[string]any, t.Len())
		for _, k := range t.Keys() {
			x, _ := t.Get(k)
			if jsonata.IsUndefined(x) {
				continue
			}
			m[k] = Value(x)
		}
		return m
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = Value(x)
		}
		return m
	case []any:
		a := make([]any, 0, len(t))
		for _, x := range t {
			if jsonata.IsUndefined(x) {
				continue
			}
			a = append(a, Value(x))
		}
		return a
	}
	if n, ok := value.Number(v); ok {
		return Value(toFloat(n))
	}
	return nil
}

func toFloat(n any) any {
	if i, ok := n.(int64); ok {
		return float64(i)
	}
	return n
}
