package intrinsics

import (
	"errors"
	"strings"
	"testing"

	"github.com/kstates/kstates/internal/engine/jsonpath"
	"github.com/kstates/kstates/internal/engine/value"
)

type vars map[string]any

func (v vars) Lookup(name string) (any, bool) { x, ok := v[name]; return x, ok }

func scope(t *testing.T) *jsonpath.Scope {
	t.Helper()
	in, err := value.ParseString(`{"name":"World","n":3,"f":1.5,"list":[1,2,2,3,"a","a",{"k":1},{"k":1}],"obj":{"a":1,"b":[1,2]},"other":{"b":"x","c":null},"tmpl":"Hi {}!","json":"{\"x\":[1,2]}","s":"Hello World","b64":"SGVsbG8gV29ybGQ=","empty":[]}`)
	if err != nil {
		t.Fatal(err)
	}
	ctx, _ := value.ParseString(`{"StateMachine":{"Name":"my-state-machine"},"Map":{"Item":{"Value":"Pikachu"}}}`)
	return &jsonpath.Scope{Input: in, Context: ctx, Vars: vars{"greeting": "Hey", "count": int64(2)}}
}

var fixedEnv = &Env{
	UUID:   func() string { return "00000000-0000-4000-8000-000000000000" },
	Int63n: func(n int64) int64 { return n - 1 },
}

func TestEval(t *testing.T) {
	cases := []struct {
		reason string
		expr   string
		want   string // JSON
	}{
		// States.Format
		{reason: "Format fills placeholders from paths", expr: `States.Format('Hello, {}!', $.name)`, want: `"Hello, World!"`},
		{reason: "Format prints numbers, null and booleans as JSON", expr: `States.Format('{} {} {} {}', $.n, $.f, null, true)`, want: `"3 1.5 null true"`},
		{reason: "Format prints objects and arrays as Java does", expr: `States.Format('{}|{}', $.obj, $.obj.b)`, want: `"{a=1, b=[1, 2]}|[1, 2]"`},
		{reason: "escaped braces and quotes are literal text", expr: `States.Format('\{\} it\'s {} \\', $.name)`, want: `"{} it's World \\"`},
		{reason: "an escaped backslash before n is a backslash and an n", expr: `States.Format('a\\nb')`, want: `"a\\nb"`},
		{reason: "Format takes its template from a path", expr: `States.Format($.tmpl, $$.Map.Item.Value)`, want: `"Hi Pikachu!"`},
		{reason: "Format reads variables", expr: `States.Format('{} x{}', $greeting, $count)`, want: `"Hey x2"`},
		{reason: "Format without placeholders returns the template", expr: `States.Format('plain')`, want: `"plain"`},
		// JSON
		{reason: "StringToJson parses JSON text", expr: `States.StringToJson($.json)`, want: `{"x":[1,2]}`},
		{reason: "StringToJson of blank text is null", expr: `States.StringToJson(' ')`, want: `null`},
		{reason: "JsonToString prints compact JSON", expr: `States.JsonToString($.obj)`, want: `"{\"a\":1,\"b\":[1,2]}"`},
		{reason: "JsonMerge merges shallowly, the second object winning", expr: `States.JsonMerge($.obj, $.other, false)`, want: `{"a":1,"b":"x","c":null}`},
		// Arrays
		{reason: "Array collects its arguments", expr: `States.Array('a', 1, $.n, null, States.Array())`, want: `["a",1,3,null,[]]`},
		{reason: "ArrayPartition splits into chunks, the last shorter", expr: `States.ArrayPartition(States.Array(1,2,3,4,5), 2)`, want: `[[1,2],[3,4],[5]]`},
		{reason: "ArrayPartition of an empty array is empty", expr: `States.ArrayPartition($.empty, 3)`, want: `[]`},
		{reason: "ArrayContains compares deeply", expr: `States.ArrayContains($.list, $.list[6])`, want: `true`},
		{reason: "ArrayContains finds an integer", expr: `States.ArrayContains($.list, 2)`, want: `true`},
		{reason: "ArrayContains tells 2.0 from 2, as Java's JSON nodes do", expr: `States.ArrayContains($.list, 2.0)`, want: `false`},
		{reason: "ArrayUnique keeps 1 and 1.0 apart", expr: `States.ArrayUnique(States.Array(1, 1.0, 1, 1.0))`, want: `[1,1.0]`},
		{reason: "ArrayContains is false when absent", expr: `States.ArrayContains($.list, 'b')`, want: `false`},
		{reason: "ArrayRange counts up by the step, including the end", expr: `States.ArrayRange(1, 9, 2)`, want: `[1,3,5,7,9]`},
		{reason: "ArrayRange counts down with a negative step", expr: `States.ArrayRange(5, 1, -2)`, want: `[5,3,1]`},
		{reason: "ArrayRange rounds non-integer arguments to the nearest integer", expr: `States.ArrayRange(0.6, 3.4, 1.5)`, want: `[1,3]`},
		{reason: "ArrayRange going the wrong way is empty", expr: `States.ArrayRange(5, 1, 1)`, want: `[]`},
		{reason: "ArrayRange may produce exactly 1000 elements", expr: `States.ArrayLength(States.ArrayRange(1, 1000, 1))`, want: `1000`},
		{reason: "ArrayGetItem indexes from 0", expr: `States.ArrayGetItem($.list, 4)`, want: `"a"`},
		{reason: "ArrayLength counts elements", expr: `States.ArrayLength($.list)`, want: `8`},
		{reason: "ArrayUnique keeps the first of each value", expr: `States.ArrayUnique($.list)`, want: `[1,2,3,"a",{"k":1}]`},
		// Encoding and hashing
		{reason: "Base64Encode encodes UTF-8", expr: `States.Base64Encode($.s)`, want: `"SGVsbG8gV29ybGQ="`},
		{reason: "Base64Decode decodes", expr: `States.Base64Decode($.b64)`, want: `"Hello World"`},
		{reason: "Hash with MD5", expr: `States.Hash('input data', 'MD5')`, want: `"812f45842bc6d66ee14572ce20db8e86"`},
		{reason: "Hash with SHA-1", expr: `States.Hash('input data', 'SHA-1')`, want: `"aaff4a450a104cd177d28d18d74485e8cae074b7"`},
		{reason: "Hash with SHA-256", expr: `States.Hash('input data', 'SHA-256')`, want: `"b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"`},
		{reason: "Hash with SHA-384", expr: `States.Hash('input data', 'SHA-384')`, want: `"d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc835ebb27e1fb9e9374a15562"`},
		{reason: "Hash with SHA-512", expr: `States.Hash('input data', 'SHA-512')`, want: `"6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce2deba23bf2954f0f1d593fc50283731a533d30d425402d4f91316d871303aac4"`},
		// Math
		{reason: "MathAdd adds integers", expr: `States.MathAdd(-9, 3)`, want: `-6`},
		{reason: "MathAdd rounds each operand half up first, as AWS does", expr: `States.MathAdd(1.49, 1.5)`, want: `3`},
		{reason: "MathAdd rounds -1.5 to -1 and -1.51 to -2", expr: `States.MathAdd(-1.5, -1.51)`, want: `-3`},
		{reason: "MathAdd saturates a huge float as Java's Math.round does, then adds", expr: `States.MathAdd(1e300, -1)`, want: `9223372036854775806`},
		{reason: "MathAdd rounds -0.5 to 0", expr: `States.MathAdd(-0.5, 0)`, want: `0`},
		{reason: "MathRandom without a seed uses the environment", expr: `States.MathRandom(10, 20)`, want: `19`},
		{reason: "MathRandom with a seed is java.util.Random's nextInt", expr: `States.MathRandom(0, 100, 42)`, want: `30`},
		{reason: "MathRandom with another seed", expr: `States.MathRandom(0, 1000, 7)`, want: `236`},
		{reason: "MathRandom rounds a non-integer range", expr: `States.MathRandom(9.6, 19.5)`, want: `19`},
		{reason: "MathRandom offsets the seeded draw by the start", expr: `States.MathRandom(1000, 1100, 42)`, want: `1030`},
		// Strings and ids
		{reason: "StringSplit splits at any delimiter character and drops empty pieces", expr: `States.StringSplit('This.is+a,,test=string', '.+,=')`, want: `["This","is","a","test","string"]`},
		{reason: "StringSplit nests in ArrayGetItem", expr: `States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), 0)`, want: `"my"`},
		{reason: "calls nest inside calls", expr: `States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), States.MathAdd(States.ArrayLength(States.StringSplit($$.StateMachine.Name, '-')), -1))`, want: `"machine"`},
		{reason: "UUID comes from the environment", expr: `States.UUID()`, want: `"00000000-0000-4000-8000-000000000000"`},
		{reason: "spaces around arguments are allowed", expr: `States.Array( 1 ,  'x'  , $.n )`, want: `[1,"x",3]`},
		{reason: "a path argument may hold commas and parentheses inside a filter", expr: `States.ArrayLength($.list[?(@ == 'a' || @ == 2)])`, want: `4`},
	}
	s := scope(t)
	for _, c := range cases {
		call, err := Parse(c.expr)
		if err != nil {
			t.Errorf("%s: Parse(%s): %v", c.reason, c.expr, err)
			continue
		}
		got, err := call.Eval(s, fixedEnv)
		if err != nil {
			t.Errorf("%s: Eval(%s): %v", c.reason, c.expr, err)
			continue
		}
		want, err := value.ParseString(c.want)
		if err != nil {
			t.Fatal(err)
		}
		if !value.Equal(got, want) {
			t.Errorf("%s: %s = %s, want %s", c.reason, c.expr, value.Marshal(got), c.want)
		}
	}
}

func TestEvalErrors(t *testing.T) {
	cases := []struct {
		reason, expr, want string
	}{
		{reason: "a path argument of the wrong type fails", expr: `States.ArrayLength($.name)`, want: `States.ArrayLength expects argument 1 to be an array, but it is a string: "World"`},
		{reason: "an index out of range fails", expr: `States.ArrayGetItem($.list, 8)`, want: "index 8 is out of bounds for an array of length 8"},
		{reason: "a fractional index fails", expr: `States.ArrayGetItem($.list, $.f)`, want: "to be an integer"},
		{reason: "a partition size of 0 fails", expr: `States.ArrayPartition($.list, States.MathAdd(0, 0))`, want: "chunk size must be greater than 0"},
		{reason: "a range of more than 1000 elements fails", expr: `States.ArrayRange(0, 1000, 1)`, want: "more than 1000 elements"},
		{reason: "a step of 0 fails", expr: `States.ArrayRange(0, 10, States.MathAdd(0, 0))`, want: "step must not be 0"},
		{reason: "invalid JSON text fails", expr: `States.StringToJson($.name)`, want: "not valid JSON"},
		{reason: "invalid base64 fails", expr: `States.Base64Decode('***')`, want: "not valid base64"},
		{reason: "an unknown hash algorithm from a path fails", expr: `States.Hash('x', $.name)`, want: `unsupported algorithm "World"`},
		{reason: "a deep merge requested through a path fails", expr: `States.JsonMerge($.obj, $.other, States.ArrayContains($.list, 1))`, want: "deep merging is not supported"},
		{reason: "a Format template from a path with too few placeholders fails", expr: `States.Format($.tmpl, 1, 2)`, want: "1 placeholders but 2 arguments"},
		{reason: "an open escape backslash fails when evaluated, as AWS documents", expr: `States.Format('a\nb')`, want: `invalid escape sequence \n in the string literal 'a\nb'`},
		{reason: "MathRandom with an empty range fails", expr: `States.MathRandom(5, 5)`, want: "must be greater than the start"},
		{reason: "Base64Encode of more than 10000 characters fails", expr: `States.Base64Encode(States.Format('{}{}{}', States.ArrayRange(1, 1000, 1), States.ArrayRange(1, 1000, 1), States.ArrayRange(1, 1000, 1)))`, want: "the maximum is 10000"},
	}
	s := scope(t)
	for _, c := range cases {
		call, err := Parse(c.expr)
		if err != nil {
			t.Errorf("%s: Parse(%s): %v", c.reason, c.expr, err)
			continue
		}
		_, err = call.Eval(s, fixedEnv)
		var ie *Error
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Eval(%s) error = %v, want an *Error containing %q", c.reason, c.expr, err, c.want)
		}
	}
}

func TestEvalPathErrorsPassThrough(t *testing.T) {
	_, err := MustParse(`States.Format('{}', $.missing)`).Eval(scope(t), fixedEnv)
	if !errors.Is(err, jsonpath.ErrNoMatch) {
		t.Fatalf("a missing path argument: error = %v, want ErrNoMatch", err)
	}
	_, err = MustParse(`States.Array($undefinedVar)`).Eval(scope(t), fixedEnv)
	if !errors.Is(err, jsonpath.ErrNoMatch) || !strings.Contains(err.Error(), "undefinedVar") {
		t.Fatalf("an undefined variable: error = %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		reason, expr, want string
	}{
		{reason: "an unknown function is named", expr: `States.Nope(1)`, want: "unknown intrinsic function States.Nope at offset 0"},
		{reason: "a nested unknown function is located", expr: `States.Array(1, States.Nope())`, want: "unknown intrinsic function States.Nope at offset 16"},
		{reason: "too many arguments are counted", expr: `States.ArrayLength($.a, $.b)`, want: "States.ArrayLength takes 1 argument, but 2 were given"},
		{reason: "too few arguments are counted", expr: `States.MathRandom(1)`, want: "takes at least 2 arguments"},
		{reason: "too many optional arguments are counted", expr: `States.MathRandom(1, 2, 3, 4)`, want: "takes at most 3 arguments"},
		{reason: "UUID takes no arguments", expr: `States.UUID(1)`, want: "takes 0 arguments"},
		{reason: "a literal of the wrong type is caught at parse time", expr: `States.ArrayLength('abc')`, want: `expects argument 1 to be an array, but it is a string: "abc"`},
		{reason: "an unsupported literal hash algorithm is caught", expr: `States.Hash('x', 'SHA-999')`, want: "unsupported algorithm"},
		{reason: "a literal deep merge is rejected", expr: `States.JsonMerge($.a, $.b, true)`, want: "deep merging is not supported"},
		{reason: "a literal template must match the argument count", expr: `States.Format('{} {}', $.a)`, want: "2 placeholders but 1 arguments"},
		{reason: "an unterminated string is located", expr: `States.Format('abc)`, want: "unterminated string literal at offset 14"},
		{reason: "a missing closing parenthesis is reported", expr: `States.Array(1, 2`, want: "missing ')'"},
		{reason: "trailing text is rejected", expr: `States.Array() x`, want: `unexpected "x" after the call`},
		{reason: "a bad path argument is reported", expr: `States.Array($.a.)`, want: "path ends with '.'"},
		{reason: "a bare word is not an argument", expr: `States.Array(abc)`, want: "unexpected 'a'"},
		{reason: "a malformed number is rejected", expr: `States.Array(1.2.3)`, want: `invalid number "1.2.3"`},
		{reason: "nesting deeper than 10 is rejected", expr: strings.Repeat("States.Array(", 11) + strings.Repeat(")", 11), want: "nest more than 10 deep"},
		{reason: "an empty argument is rejected", expr: `States.Array(1,)`, want: "unexpected ')'"},
	}
	for _, c := range cases {
		_, err := Parse(c.expr)
		var se *SyntaxError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Parse(%s) error = %v, want a *SyntaxError containing %q", c.reason, c.expr, err, c.want)
		}
	}
	if _, err := Parse(strings.Repeat("States.Array(", 10) + strings.Repeat(")", 10)); err != nil {
		t.Errorf("nesting exactly 10 deep is allowed: %v", err)
	}
}

func TestJavaRandomMatchesJava(t *testing.T) {
	// Well-known values of java.util.Random: new Random(0).nextInt() and
	// new Random(42).nextInt() (nextInt() is next(32)).
	for _, c := range []struct {
		seed int64
		want int32
	}{{0, -1155484576}, {42, -1170105035}} {
		if got := newJavaRandom(c.seed).next(32); got != c.want {
			t.Errorf("new Random(%d).nextInt() = %d, want %d", c.seed, got, c.want)
		}
	}
	// nextInt(bound) stays in range and is the same for the same seed.
	for seed := int64(0); seed < 200; seed++ {
		for _, bound := range []int32{1, 2, 7, 16, 1000, 1 << 30, 1<<31 - 1} {
			a, b := newJavaRandom(seed).nextInt(bound), newJavaRandom(seed).nextInt(bound)
			if a != b || a < 0 || a >= bound {
				t.Fatalf("new Random(%d).nextInt(%d) = %d then %d", seed, bound, a, b)
			}
		}
	}
}

func TestUUIDIsVersion4(t *testing.T) {
	u := NewUUID()
	if len(u) != 36 || u[14] != '4' || strings.IndexByte("89ab", u[19]) < 0 {
		t.Fatalf("NewUUID() = %s, not a version 4 UUID", u)
	}
}

func TestInvoke(t *testing.T) {
	got, err := Invoke("States.ArrayPartition", []any{[]any{int64(1), int64(2), int64(3)}, int64(2)}, nil)
	if err != nil || !value.Equal(got, []any{[]any{int64(1), int64(2)}, []any{int64(3)}}) {
		t.Errorf("Invoke partitions values directly: %s, %v", value.Marshal(got), err)
	}
	got, err = Invoke("States.Format", []any{"{} and {}", "a", int64(1)}, nil)
	if err != nil || got != "a and 1" {
		t.Errorf("Invoke formats with a template value: %v, %v", got, err)
	}
	var ie *Error
	if _, err := Invoke("States.ArrayLength", []any{"x"}, nil); !errors.As(err, &ie) || !strings.Contains(err.Error(), "to be an array") {
		t.Errorf("Invoke checks argument types: %v", err)
	}
	if _, err := Invoke("States.Nope", nil, nil); !errors.As(err, &ie) {
		t.Errorf("Invoke rejects unknown functions: %v", err)
	}
	if _, err := Invoke("States.UUID", []any{int64(1)}, nil); !errors.As(err, &ie) || !strings.Contains(err.Error(), "takes 0 arguments") {
		t.Errorf("Invoke checks the argument count: %v", err)
	}
}
