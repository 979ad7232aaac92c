package template

import (
	"errors"
	"strings"
	"testing"

	"github.com/kstates/kstates/internal/engine/intrinsics"
	"github.com/kstates/kstates/internal/engine/jsonpath"
	"github.com/kstates/kstates/internal/engine/value"
)

type vars map[string]any

func (v vars) Lookup(name string) (any, bool) { x, ok := v[name]; return x, ok }

func parse(t testing.TB, s string) any {
	t.Helper()
	v, err := value.ParseString(s)
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return v
}

func TestEval(t *testing.T) {
	scope := &jsonpath.Scope{
		Input:   parse(t, `{"name":"Ada","items":[{"id":1},{"id":2}],"n":5}`),
		Context: parse(t, `{"Execution":{"Id":"exec-1"}}`),
		Vars:    vars{"limit": int64(10)},
	}
	env := &intrinsics.Env{UUID: func() string { return "u-1" }}
	cases := []struct {
		reason, tmpl, want string
	}{
		{reason: "constant values are copied as they are", tmpl: `{"a":1,"b":[true,null],"c":{"d":"$.name"}}`, want: `{"a":1,"b":[true,null],"c":{"d":"$.name"}}`},
		{reason: "a .$ key takes its value from a path and drops the suffix", tmpl: `{"who.$":"$.name"}`, want: `{"who":"Ada"}`},
		{reason: "a .$ key may read the context object", tmpl: `{"id.$":"$$.Execution.Id"}`, want: `{"id":"exec-1"}`},
		{reason: "a .$ key may read a variable", tmpl: `{"max.$":"$limit"}`, want: `{"max":10}`},
		{reason: "a .$ key may call an intrinsic", tmpl: `{"msg.$":"States.Format('Hi {}', $.name)","id.$":"States.UUID()"}`, want: `{"msg":"Hi Ada","id":"u-1"}`},
		{reason: "an indefinite path gives an array", tmpl: `{"ids.$":"$.items[*].id"}`, want: `{"ids":[1,2]}`},
		{reason: "nested objects and arrays are evaluated", tmpl: `{"outer":{"inner.$":"$.n","list":[{"x.$":"$.name"},"plain"]}}`, want: `{"outer":{"inner":5,"list":[{"x":"Ada"},"plain"]}}`},
		{reason: "a template that is not an object is returned as it is", tmpl: `[1,"$.name"]`, want: `[1,"$.name"]`},
		{reason: "a key of just .$ gives an empty key", tmpl: `{".$":"$.n"}`, want: `{"":5}`},
	}
	for _, c := range cases {
		tp, err := Compile(parse(t, c.tmpl))
		if err != nil {
			t.Errorf("%s: Compile(%s): %v", c.reason, c.tmpl, err)
			continue
		}
		got, err := tp.Eval(scope, env)
		if err != nil {
			t.Errorf("%s: Eval(%s): %v", c.reason, c.tmpl, err)
			continue
		}
		if !value.Equal(got, parse(t, c.want)) {
			t.Errorf("%s: Eval(%s) = %s, want %s", c.reason, c.tmpl, value.Marshal(got), c.want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	cases := []struct {
		reason, tmpl, pointer, msg string
	}{
		{reason: "a .$ value that is not a string is rejected", tmpl: `{"a.$":1}`, pointer: "/a.$", msg: "must be a string"},
		{reason: "a .$ value that is neither path nor intrinsic is rejected", tmpl: `{"a.$":"hello"}`, pointer: "/a.$", msg: "neither a path"},
		{reason: "a malformed path is located by pointer", tmpl: `{"x":{"y":[0,{"z.$":"$.a."}]}}`, pointer: "/x/y/1/z.$", msg: "path ends with '.'"},
		{reason: "a malformed intrinsic is located by pointer", tmpl: `{"f.$":"States.Nope()"}`, pointer: "/f.$", msg: "unknown intrinsic function"},
		{reason: "pointer special characters are escaped", tmpl: `{"a/b~c.$":"$.a."}`, pointer: "/a~1b~0c.$", msg: "path ends"},
		{reason: "two fields producing the same key are rejected", tmpl: `{"a":1,"a.$":"$.x"}`, pointer: "/a.$", msg: `both produce the key "a"`},
	}
	for _, c := range cases {
		_, err := Compile(parse(t, c.tmpl))
		var ce *CompileError
		if !errors.As(err, &ce) || ce.Pointer != c.pointer || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: Compile(%s) error = %v, want a *CompileError at %s containing %q", c.reason, c.tmpl, err, c.pointer, c.msg)
		}
	}
}

func TestEvalErrors(t *testing.T) {
	scope := &jsonpath.Scope{Input: parse(t, `{"s":"text"}`)}
	cases := []struct {
		reason, tmpl, field, pointer string
		noMatch                      bool
	}{
		{reason: "a path that matches nothing names its field", tmpl: `{"a":{"value.$":"$.no_such_jsonpath"}}`, field: "value.$", pointer: "/a/value.$", noMatch: true},
		{reason: "an undefined variable names its field", tmpl: `{"v.$":"$nope"}`, field: "v.$", pointer: "/v.$", noMatch: true},
		{reason: "an intrinsic failure names its field", tmpl: `[{"n.$":"States.ArrayLength($.s)"}]`, field: "n.$", pointer: "/0/n.$"},
	}
	for _, c := range cases {
		_, err := MustCompile(parse(t, c.tmpl)).Eval(scope, nil)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != c.field || fe.Pointer != c.pointer {
			t.Errorf("%s: Eval(%s) error = %#v, want a *FieldError for %s at %s", c.reason, c.tmpl, err, c.field, c.pointer)
			continue
		}
		var ie *intrinsics.Error
		if c.noMatch && !errors.Is(err, jsonpath.ErrNoMatch) || !c.noMatch && !errors.As(err, &ie) {
			t.Errorf("%s: Eval(%s) error %v does not wrap the expected cause", c.reason, c.tmpl, err)
		}
	}
}

func TestEvalDoesNotLeakChangesBetweenCalls(t *testing.T) {
	src := parse(t, `{"const":{"k":1},"v.$":"$.x"}`)
	tp := MustCompile(src)
	src.(map[string]any)["const"].(map[string]any)["k"] = int64(99)
	out, err := tp.Eval(&jsonpath.Scope{Input: parse(t, `{"x":1}`)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !value.Equal(out, parse(t, `{"const":{"k":1},"v":1}`)) {
		t.Fatalf("changing the source after Compile changed the output: %s", value.Marshal(out))
	}
}

func BenchmarkEvalParameters50KB(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"items":[`)
	for i := 0; i < 250; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"id":1,"name":"item","price":1.25,"tags":["red","green","blue"],"nested":{"x":null,"y":[1,2,3,4,5],"z":"some text here, and more text here"}}`)
	}
	sb.WriteString(`],"customer":{"id":"c-1","name":"Ada","address":{"city":"London"}}}`)
	in := parse(b, sb.String())
	tp := MustCompile(parse(b, `{"customer.$":"$.customer.name","city.$":"$.customer.address.city","first.$":"$.items[0]","count.$":"States.ArrayLength($.items)","greeting.$":"States.Format('Hello {} from {}', $.customer.name, $.customer.address.city)","static":{"a":1,"b":[1,2]},"all.$":"$.items"}`))
	s := &jsonpath.Scope{Input: in}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tp.Eval(s, nil); err != nil {
			b.Fatal(err)
		}
	}
}
