package jsonpath

import (
	"testing"

	"github.com/kstates/kstates/internal/engine/value"
)

// FuzzCompile checks that Compile and CompileReference never panic and that a
// compiled path evaluates (or fails cleanly) on a sample document.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{"$", "$.a.b", "$['a b'][0]", "$.a[-1]", "$..x", "$.a[*].b", "$.a[?(@.x > 1)]", "$.a[1:3]", "$.a[0,1]", "$$.Execution.Id", "$v.a[0]", "$.a[?(@.x == 'y' && @.z)]", "$['a','b']"} {
		f.Add(s)
	}
	doc, _ := value.ParseString(`{"a":[{"x":1,"b":"s"},{"x":2,"z":true}],"b":{"c":null},"v":[1,2,3]}`)
	scope := &Scope{Input: doc, Context: doc, Vars: vars{"v": doc}}
	f.Fuzz(func(t *testing.T, src string) {
		if p, err := Compile(src); err == nil {
			_, _ = p.Get(scope)
			_ = p.Normalized()
		}
		if r, err := CompileReference(src); err == nil {
			if _, err := r.Set(doc, int64(1)); err == nil && r.String() == "$" {
				return
			}
		}
	})
}
