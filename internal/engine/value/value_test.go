package value

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		reason string
		in     string
		want   any
		errHas string
	}{
		{reason: "an integer becomes an int64", in: `42`, want: int64(42)},
		{reason: "an integer written with a decimal point becomes a float64", in: `2.0`, want: float64(2)},
		{reason: "an exponent makes a float64", in: `1e2`, want: float64(100)},
		{reason: "an integer too large for int64 becomes a float64", in: `99999999999999999999`, want: float64(1e20)},
		{reason: "the largest int64 stays an int64", in: `[9223372036854775807,-9223372036854775808]`, want: []any{int64(9223372036854775807), int64(-9223372036854775808)}},
		{reason: "one past the largest int64 becomes a float64", in: `9223372036854775808`, want: float64(9223372036854775808)},
		{reason: "a long fraction keeps float64 precision", in: `{"a":0.12345678901234567890123}`, want: map[string]any{"a": 0.12345678901234568}},
		{reason: "objects and arrays nest", in: `{"a":[1,"x",null,true]}`, want: map[string]any{"a": []any{int64(1), "x", nil, true}}},
		{reason: "surrounding spaces are allowed", in: " [ ] ", want: []any{}},
		{reason: "trailing garbage is rejected", in: `{"a":1} x`, errHas: "extra characters"},
		{reason: "a second document is rejected", in: `{}{}`, errHas: "extra characters"},
		{reason: "a trailing comma is rejected", in: `[1,]`, errHas: "unexpected character"},
		{reason: "empty input is rejected", in: ``, errHas: "invalid JSON"},
		{reason: "a number beyond float64 range is rejected with its location", in: `{"a":[1.5e400]}`, errHas: "number out of range at $.a[0]"},
		{reason: "invalid UTF-8 is rejected", in: "[\"\xff\"]", errHas: "invalid UTF-8"},
	}
	for _, c := range cases {
		got, err := Parse([]byte(c.in))
		if c.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), c.errHas) {
				t.Errorf("%s: Parse(%q) error = %v, want one containing %q", c.reason, c.in, err, c.errHas)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: Parse(%q): %v", c.reason, c.in, err)
			continue
		}
		if !sameTypes(got, c.want) {
			t.Errorf("%s: Parse(%q) = %#v, want %#v", c.reason, c.in, got, c.want)
		}
	}
}

// sameTypes is Equal that also requires the same Go types for numbers.
func sameTypes(a, b any) bool {
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameTypes(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k := range x {
			if !sameTypes(x[k], y[k]) {
				return false
			}
		}
		return true
	}
	return a == b
}

func TestParseRejectsDeepNesting(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	_, err := Parse([]byte(deep))
	if !errors.Is(err, ErrTooDeep) {
		t.Fatalf("a document %d levels deep: error = %v, want ErrTooDeep", MaxDepth+1, err)
	}
	ok := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	if _, err := Parse([]byte(ok)); err != nil {
		t.Fatalf("a document exactly %d levels deep is accepted: %v", MaxDepth, err)
	}
	huge := strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000)
	if _, err := Parse([]byte(huge)); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("a 100000-level document: error = %v, want ErrTooDeep", err)
	}
}

var tenth = 0.1

func TestMarshal(t *testing.T) {
	cases := []struct {
		reason string
		in     any
		want   string
	}{
		{reason: "null, booleans and integers print plainly", in: []any{nil, true, false, int64(-7)}, want: `[null,true,false,-7]`},
		{reason: "an integral float keeps its .0 as Jackson prints it", in: float64(2), want: `2.0`},
		{reason: "negative zero keeps its sign", in: math.Copysign(0, -1), want: `-0.0`},
		{reason: "an ordinary fraction prints in decimal", in: 0.5, want: `0.5`},
		{reason: "the shortest round-trip digits are used", in: tenth + 2*tenth, want: `0.30000000000000004`},
		{reason: "a float just below 1e7 prints in decimal", in: 9999999.5, want: `9999999.5`},
		{reason: "a float of 1e7 or more uses Java's scientific notation", in: 1e7, want: `1.0E7`},
		{reason: "a large float keeps its digits in scientific notation", in: 1.2345e20, want: `1.2345E20`},
		{reason: "a float below 1e-3 uses a negative exponent", in: 0.00015, want: `1.5E-4`},
		{reason: "0.001 still prints in decimal", in: 0.001, want: `0.001`},
		{reason: "NaN cannot be JSON and prints as null", in: math.NaN(), want: `null`},
		{reason: "object keys are sorted", in: map[string]any{"b": int64(1), "a": int64(2), "c": map[string]any{}}, want: `{"a":2,"b":1,"c":{}}`},
		{reason: "quotes, backslashes and control characters are escaped", in: "a\"b\\c\nd\te\x01", want: `"a\"b\\c\nd\te\u0001"`},
		{reason: "HTML characters and non-ASCII are not escaped", in: "<&>é/", want: `"<&>é/"`},
		{reason: "invalid UTF-8 is replaced", in: "a\xffb", want: "\"a\ufffdb\""},
		{reason: "other Go number kinds print as numbers", in: []any{3, int32(4), float32(0.5)}, want: `[3,4,0.5]`},
	}
	for _, c := range cases {
		got := string(Marshal(c.in))
		if got != c.want {
			t.Errorf("%s: Marshal(%#v) = %s, want %s", c.reason, c.in, got, c.want)
		}
		if n := Size(c.in); n != len(got) {
			t.Errorf("%s: Size(%#v) = %d, want len(Marshal) = %d", c.reason, c.in, n, len(got))
		}
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	for _, f := range []float64{1, 1.5, 123456.789, 1e-5, 1e300, -2.5e-300, 5e-324, math.MaxFloat64, 1e21, 12345678.9} {
		s := Marshal(f)
		got, err := Parse(s)
		if err != nil || got != f {
			t.Errorf("a float survives Marshal and Parse: %v -> %s -> %v (%v)", f, s, got, err)
		}
	}
}

func TestEqual(t *testing.T) {
	cases := []struct {
		reason string
		a, b   any
		want   bool
	}{
		{reason: "an integer equals the same float", a: int64(1), b: 1.0, want: true},
		{reason: "an integer differs from a nearby float", a: int64(1), b: 1.5, want: false},
		{reason: "a huge integer is not rounded to match a float", a: int64(math.MaxInt64), b: 9.223372036854775807e18, want: false},
		{reason: "a number differs from the string of it", a: int64(1), b: "1", want: false},
		{reason: "null equals only null", a: nil, b: false, want: false},
		{reason: "objects compare by content whatever the order", a: map[string]any{"a": int64(1), "b": []any{2.0}}, b: map[string]any{"b": []any{int64(2)}, "a": 1.0}, want: true},
		{reason: "objects with different keys differ", a: map[string]any{"a": nil}, b: map[string]any{"b": nil}, want: false},
		{reason: "arrays compare in order", a: []any{int64(1), int64(2)}, b: []any{int64(2), int64(1)}, want: false},
		{reason: "other Go number kinds compare by value", a: 3, b: 3.0, want: true},
	}
	for _, c := range cases {
		if got := Equal(c.a, c.b); got != c.want {
			t.Errorf("%s: Equal(%#v, %#v) = %v", c.reason, c.a, c.b, got)
		}
		if got := Equal(c.b, c.a); got != c.want {
			t.Errorf("%s (reversed): Equal(%#v, %#v) = %v", c.reason, c.b, c.a, got)
		}
	}
}

func TestCopyIsDeep(t *testing.T) {
	orig := map[string]any{"a": []any{map[string]any{"b": int64(1)}}}
	c := Copy(orig).(map[string]any)
	c["a"].([]any)[0].(map[string]any)["b"] = int64(2)
	if orig["a"].([]any)[0].(map[string]any)["b"] != int64(1) {
		t.Fatal("changing a copy's nested object changed the original")
	}
}

func TestTypeName(t *testing.T) {
	for v, want := range map[string]any{"null": nil, "boolean": true, "number": 1.5, "string": "", "array": []any{}, "object": map[string]any{}} {
		if got := TypeName(want); got != v {
			t.Errorf("TypeName(%#v) = %s, want %s", want, got, v)
		}
	}
	if TypeName(int64(1)) != "number" {
		t.Error("an int64 is a number")
	}
}

func TestStrictEqualKeepsIntegersAndFractionsApart(t *testing.T) {
	cases := []struct {
		reason string
		a, b   any
		want   bool
	}{
		{"an integer does not equal the same number written with a fraction", int64(1), 1.0, false},
		{"nor inside an array", []any{int64(1)}, []any{1.0}, false},
		{"nor inside an object", map[string]any{"a": int64(2)}, map[string]any{"a": 2.0}, false},
		{"integers equal integers", []any{int64(1), "x"}, []any{int64(1), "x"}, true},
		{"fractions equal fractions", map[string]any{"a": 1.5}, map[string]any{"a": 1.5}, true},
	}
	for _, c := range cases {
		if got := StrictEqual(c.a, c.b); got != c.want {
			t.Errorf("%s: StrictEqual(%v, %v) = %v", c.reason, c.a, c.b, got)
		}
		if !Equal(c.a, c.b) {
			t.Errorf("%s: Equal(%v, %v) = false, want true", c.reason, c.a, c.b)
		}
	}
}
