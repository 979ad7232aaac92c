package jsonata

import (
	"reflect"
	"strings"
	"testing"
)

func TestTopLevelReferences(t *testing.T) {
	cases := []struct{ reason, expr, want string }{
		{"a bare name", `phone`, "phone"},
		{"only the first step of a path", `a.b.c`, "a"},
		{"the context value", `$`, "$"},
		{"the context value starting a path", `$.a`, "$"},
		{"variables are not references", `$x.a + $states.input.b`, ""},
		{"$$ has its own rule", `$$.a`, ""},
		{"filters run against the step before", `$states.input.items[price > 5]`, ""},
		{"a filter on a top-level name", `items[price > 5]`, "items"},
		{"sort terms and group-by objects", `$states.input.items^(>price){kind: $sum(price)}`, ""},
		{"function arguments", `$sum(prices)`, "prices"},
		{"names inside a path argument are not", `$count($states.input.items[x = 1].y)`, ""},
		{"operands, in source order without repeats", `a + b * a`, "a,b"},
		{"array constructor", `[x, $states.input]`, "x"},
		{"object constructor keys and values", `{k: v, 'lit': 1}`, "k,v"},
		{"conditions", `$states.input.ok ? yes : no`, "yes,no"},
		{"blocks and bindings", `($v := w; $v.z)`, "w"},
		{"lambda bodies keep the defining context", `$map($states.input.a, function($x){ b })`, "b"},
		{"lambda parameters are variables", `$map($states.input.a, function($x){ $x.b })`, ""},
		{"the apply operator", `$states.input ~> $string(fmt)`, "fmt"},
		{"partial application", `$substring(s, ?, 2)`, "s"},
		{"a quoted first step is a name", `'x'.$hash('MD5')`, "x"},
		{"a string literal alone is not", `'x' & "y"`, ""},
		{"a parenthesized string starting a path is not", `('x').$uppercase()`, ""},
		{"unary minus", `-amount`, "amount"},
		{"and, or as field names", `$states.input.a and or`, "or"},
		{"wildcards and descendants are not listed", `*.a + **.b`, ""},
		{"transforms are not", `$states.input ~> |a|{'b': c}|`, ""},
		{"a function result as the first step", `$lookup($states.input, 'k').x`, ""},
		{"range operands", `[1..n]`, "n"},
	}
	for _, c := range cases {
		t.Run(c.reason, func(t *testing.T) {
			var names []string
			for _, r := range MustCompile(c.expr).TopLevelReferences() {
				names = append(names, r.Name)
			}
			if got := strings.Join(names, ","); got != c.want {
				t.Fatalf("%s: references %q, want %q", c.expr, got, c.want)
			}
		})
	}
}

// TestVarPathFastPath: `$v.a.b` (the fast path) gives what `($v).a.b` (the
// general path evaluation, its first step being a block) gives.
func TestVarPathFastPath(t *testing.T) {
	data := map[string]any{
		"o":    map[string]any{"a": map[string]any{"b": 1, "c": []any{1, 2}, "n": nil, "s": "x", "e": []any{}}},
		"arr":  []any{map[string]any{"a": map[string]any{"b": 1}}, map[string]any{"a": map[string]any{"b": []any{2, 3}}}},
		"nest": map[string]any{"a": []any{[]any{1, 2}, []any{3}}},
		"one":  []any{map[string]any{"a": 5}},
		"s":    "str", "n": nil, "num": 3,
	}
	paths := []string{"a", "a.b", "a.c", "a.n", "a.s", "a.e", "a.b.c", "a.s.x", "x", "x.y", "a.c.d"}
	vars := []string{"o", "arr", "nest", "one", "s", "n", "num", "missing", "seq"}
	for _, v := range vars {
		for _, p := range paths {
			fast := "($seq := arr.a.b; $" + v + "." + p + ")"
			general := "($seq := arr.a.b; ($" + v + ")." + p + ")"
			bind := map[string]any{}
			for k, x := range data {
				bind[k] = x
			}
			got, err1 := MustCompile(fast).Evaluate(data, bind)
			want, err2 := MustCompile(general).Evaluate(data, bind)
			if (err1 == nil) != (err2 == nil) || !reflect.DeepEqual(Plain(got), Plain(want)) {
				t.Errorf("%s = %#v (%v), general path gives %#v (%v)", fast, Plain(got), err1, Plain(want), err2)
			}
			// kept in an array constructor and as a function argument too
			for _, wrap := range []string{"[%s]", "$count(%s)", "$type(%s)"} {
				f, g := strings.Replace(wrap, "%s", fast, 1), strings.Replace(wrap, "%s", general, 1)
				got, err1 := MustCompile(f).Evaluate(data, bind)
				want, err2 := MustCompile(g).Evaluate(data, bind)
				if (err1 == nil) != (err2 == nil) || !reflect.DeepEqual(Plain(got), Plain(want)) {
					t.Errorf("%s = %#v (%v), general path gives %#v (%v)", f, Plain(got), err1, Plain(want), err2)
				}
			}
		}
	}
}
