package jsonata

import "testing"

// TestErrorMessages: messages fill their templates as jsonata-js does,
// {{token}} and {{value}} with JSON.stringify (strings quoted, numbers and
// literals not) and {{{token}}} raw.
func TestErrorMessages(t *testing.T) {
	cases := []struct{ expr, want string }{
		{`a[1,2)`, `S0202: Expected "]", got "," (position 4)`},
		{`[1,2 3]`, `S0202: Expected "]", got 3 (position 6)`},
		{`[1,2`, `S0203: Expected "]" before end of expression (position 4)`},
		{`1 2`, `S0201: Syntax error: 2 (position 3)`},
		{`$x := 1; $x()`, `S0201: Syntax error: ";" (position 8)`},
		{`1.a`, `S0213: The literal value 1 cannot be used as a step within a path expression (position 1)`},
		{`true.a`, `S0213: The literal value true cannot be used as a step within a path expression (position 4)`},
		{`$number("abc")`, `D3030: Unable to cast value to a number: "abc" (position 8)`},
		{`1 + "a"`, `T2002: The right side of the "+" operator must evaluate to a number (position 3)`},
		{`"a" < 1`, `T2009: The values "a" and 1 either side of operator "<" must be of the same data type (position 5)`},
		{`$sum("x")`, `T0412: Argument 1 of function "sum" must be an array of "numbers" (position 5)`},
		{`$substring(1)`, `T0411: Context value is not a compatible type with argument 1 of function "substring" (position 11)`},
		{`sum()`, `T1005: Attempted to invoke a non-function. Did you mean $sum? (position 4)`},
		{`-"a"`, `D1002: Cannot negate a non-numeric value: "a" (position 1)`},
		{`{"a":1, "a":2}`, `D1009: Multiple key definitions evaluate to same key: "a" (position 1)`},
		{`{1: 2}`, `T1003: Key in object structure must evaluate to a string; got: 1 (position 1)`},
		{`$power(10, 400)`, `D3061: The power function has resulted in a value that cannot be represented as a JSON number: base=10, exponent=400 (position 7)`},
		{`$string(nothing) & $error("boom")`, `D3137: boom (position 26)`},
	}
	for _, c := range cases {
		e, err := Compile(c.expr)
		if err == nil {
			_, err = e.Evaluate(map[string]any{"a": 1}, nil)
		}
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: got %v, want %s", c.expr, err, c.want)
		}
	}
}

func TestJSONValue(t *testing.T) {
	cases := []struct {
		v    any
		want string
	}{
		{nil, "undefined"}, {Undefined, "undefined"}, {jnull, "null"}, {"a\"b", `"a\"b"`}, {1.5, "1.5"},
		{[]any{1, "x"}, `[1,"x"]`}, {map[string]any{"k": true}, `{"k":true}`},
	}
	for _, c := range cases {
		if got := jsonValue(c.v); got != c.want {
			t.Errorf("jsonValue(%#v) = %s, want %s", c.v, got, c.want)
		}
	}
}
