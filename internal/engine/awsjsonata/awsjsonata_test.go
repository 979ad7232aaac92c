package awsjsonata

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/kstates/kstates/internal/engine/jsonata"
)

func env() Env {
	n := 0
	return Env{
		UUID:   func() string { n++; return "uuid-" + string(rune('0'+n)) },
		Int63n: func(k int64) int64 { return k / 4 },
	}
}

// eval evaluates expr with the precompiled set of NewFunctions and checks
// that the per-function options of Functions give the same result.
func eval(t *testing.T, expr string, e Env) (any, error) {
	t.Helper()
	return evalOn(t, expr, jsonata.Undefined, e)
}

func evalOn(t *testing.T, expr string, input any, e Env) (any, error) {
	t.Helper()
	x, err := jsonata.Compile(expr)
	if err != nil {
		t.Fatalf("compile %q: %v", expr, err)
	}
	r, err := x.Evaluate(input, nil, jsonata.WithFunctions(NewFunctions(e)))
	r2, err2 := x.Evaluate(input, nil, Functions(e)...)
	if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
		t.Fatalf("%s: NewFunctions gives error %v, Functions gives %v", expr, err, err2)
	}
	if err != nil {
		return nil, err
	}
	if expr != "$random()" && !strings.Contains(expr, "$uuid") && !reflect.DeepEqual(Value(r), Value(r2)) {
		t.Fatalf("%s: NewFunctions gives %v, Functions gives %v", expr, Value(r), Value(r2))
	}
	return Value(r), nil
}

// TestContextArgument: a signature parameter marked "-" takes the context
// value when the argument is left out, as in AWS (`'x'.$hash('MD5')`).
func TestContextArgument(t *testing.T) {
	cases := []struct {
		reason, expr string
		input, want  any
	}{
		{"$hash hashes the context string", `('input').$hash('MD5')`, nil, "a43c1b0aa53a0c908810c06ab1ff3967"},
		// a quoted first path step names a field, as in jsonata-js
		{"$hash hashes the field a quoted step names", `'s'.$hash('MD5')`, map[string]any{"s": "input"}, "a43c1b0aa53a0c908810c06ab1ff3967"},
		{"$hash hashes a field through a path", `s.$hash('MD5')`, map[string]any{"s": "input"}, "a43c1b0aa53a0c908810c06ab1ff3967"},
		{"$parse parses the context string", `j.$parse()`, map[string]any{"j": `{"a":1}`}, map[string]any{"a": int64(1)}},
	}
	for _, c := range cases {
		t.Run(c.reason, func(t *testing.T) {
			in := c.input
			if in == nil {
				in = jsonata.Undefined
			}
			got, err := evalOn(t, c.expr, in, env())
			if err != nil {
				t.Fatalf("%s: %v", c.expr, err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("%s = %#v, want %#v", c.expr, got, c.want)
			}
		})
	}
}

func TestFunctions(t *testing.T) {
	cases := []struct {
		reason string
		expr   string
		want   any
	}{
		{"$partition splits an array into chunks, the last one shorter", `$partition([1,2,3,4,5], 2)`, []any{[]any{int64(1), int64(2)}, []any{int64(3), int64(4)}, []any{int64(5)}}},
		{"$partition of an empty array is empty", `$partition([], 3)`, []any{}},
		{"$range counts from start to end inclusive by step", `$range(0, 10, 5)`, []any{int64(0), int64(5), int64(10)}},
		{"$range counts down with a negative step", `$range(3, 1, -1)`, []any{int64(3), int64(2), int64(1)}},
		{"$hash computes SHA-256 in hex", `$hash('input', 'SHA-256')`, "c96c6d5be8d08a12e7b5cdc1b207fa6b2430974c86803d8891675e76fd992c20"},
		{"$hash computes MD5 in hex", `$hash('input', 'MD5')`, "a43c1b0aa53a0c908810c06ab1ff3967"},
		{"$random() draws from the injected source, in [0, 1)", `$random()`, 0.25},
		{"$random(seed) gives the same number for the same seed", `$random(42) = $random(42)`, true},
		{"$random(seed) differs between seeds", `$random(1) != $random(2)`, true},
		{"$uuid() comes from the injected source", `[$uuid(), $uuid()]`, []any{"uuid-1", "uuid-2"}},
		{"$parse reads a JSON text", `$parse('{"a": [1, 2.5, null, true]}')`, map[string]any{"a": []any{int64(1), 2.5, nil, true}}},
		{"$parse reads a JSON string", `$parse('"x"')`, "x"},
	}
	for _, c := range cases {
		t.Run(c.reason, func(t *testing.T) {
			got, err := eval(t, c.expr, env())
			if err != nil {
				t.Fatalf("%s: %v", c.expr, err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("%s = %#v, want %#v", c.expr, got, c.want)
			}
		})
	}
}

func TestFunctionErrors(t *testing.T) {
	cases := []struct {
		reason, expr, code, msg string
	}{
		{"$partition needs a positive chunk size", `$partition([1], 0)`, "D3137", "$partition: the chunk size must be greater than 0"},
		{"$partition needs an array", `$partition('a', 1)`, "D3137", "$partition"},
		{"$range refuses a zero step", `$range(1, 5, 0)`, "D3137", "$range: the step must not be 0"},
		{"$range refuses more than 1,000 elements", `$range(0, 5000, 1)`, "D3137", "more than 1000 elements"},
		{"$hash refuses an unknown algorithm", `$hash('a', 'SHA-3')`, "D3137", "$hash"},
		{"$parse refuses text that is not JSON", `$parse('{')`, "D3137", "$parse: the argument is not valid JSON"},
		{"$parse needs a string (its signature)", `$parse(1)`, "T0410", "Argument 1 of function"},
		{"$random takes at most a seed (its signature)", `$random(1, 2)`, "T0410", "Argument 2 of function"},
		{"$hash needs a string (its signature)", `$hash(1, 'MD5')`, "T0410", "Argument 1 of function"},
		{"$range needs numbers (its signature)", `$range('1', 2, 1)`, "T0410", "Argument 1 of function"},
		{"$eval is not offered", `$eval('1')`, "T1006", "Attempted to invoke a non-function"},
	}
	for _, c := range cases {
		t.Run(c.reason, func(t *testing.T) {
			_, err := eval(t, c.expr, env())
			je, ok := err.(*jsonata.Error)
			if !ok {
				t.Fatalf("%s: want a *jsonata.Error, got %v", c.expr, err)
			}
			if je.Code != c.code || !strings.Contains(je.Message, c.msg) {
				t.Fatalf("%s: got %s %q, want %s containing %q", c.expr, je.Code, je.Message, c.code, c.msg)
			}
		})
	}
}

func TestValue(t *testing.T) {
	o := jsonata.NewObject()
	o.Set("n", 2.0)
	o.Set("f", 2.5)
	o.Set("u", jsonata.Undefined)
	negZero := math.Copysign(0, -1)
	o.Set("a", []any{1e300, negZero, float64(1 << 53), float64(1<<53 - 1), jsonata.Undefined})
	got := Value(o)
	want := map[string]any{"n": int64(2), "f": 2.5, "a": []any{1e300, int64(0), float64(1 << 53), int64(1<<53 - 1)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Value = %#v, want %#v", got, want)
	}
}
