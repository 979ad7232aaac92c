package template

import (
	"testing"

	"github.com/kstates/kstates/internal/engine/intrinsics"
	"github.com/kstates/kstates/internal/engine/jsonpath"
	"github.com/kstates/kstates/internal/engine/value"
)

// FuzzTemplate checks that compiling and evaluating any JSON template never
// panics: bad templates give a *CompileError, failing fields a *FieldError.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{
		`{"a.$":"$.x","b":[{"c.$":"States.Format('{}', $.x)"}]}`, `{"a.$":1}`, `[1,{"x.$":"$$.y"}]`,
		`{"v.$":"$var.k[0]","w.$":"$.arr[*].k"}`, `{"h.$":"States.Hash($.x, 'MD5')"}`,
	} {
		f.Add([]byte(s))
	}
	input, _ := value.ParseString(`{"x":"s","arr":[{"k":1},{"k":2}],"n":3}`)
	scope := &jsonpath.Scope{Input: input, Context: input, Vars: vars{"var": input}}
	env := &intrinsics.Env{UUID: func() string { return "u" }, Int63n: func(n int64) int64 { return 0 }}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := value.Parse(data)
		if err != nil {
			return
		}
		tp, err := Compile(v)
		if err != nil {
			if _, ok := err.(*CompileError); !ok {
				t.Fatalf("Compile error is %T, want *CompileError: %v", err, err)
			}
			return
		}
		if _, err := tp.Eval(scope, env); err != nil {
			if _, ok := err.(*FieldError); !ok {
				t.Fatalf("Eval error is %T, want *FieldError: %v", err, err)
			}
		}
	})
}
