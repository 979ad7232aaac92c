package intrinsics

import "testing"

// FuzzParse checks that Parse never panics and that whatever parses
// evaluates (or fails cleanly) against a sample scope.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`States.Format('Hello, {}!', $.name)`, `States.Array(1, 'a', null, true, $.n)`,
		`States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), 0)`,
		`States.Hash('x', 'MD5')`, `States.MathRandom(1, 10, 3)`, `States.Format('\{\} \'{}\'', $.x)`,
		`States.ArrayRange(1, 9, 2)`, `States.JsonMerge($.obj, $.other, false)`, `States.UUID()`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		c, err := Parse(src)
		if err != nil {
			return
		}
		_, _ = c.Eval(scope(t), fixedEnv)
	})
}
