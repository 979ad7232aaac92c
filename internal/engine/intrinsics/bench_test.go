package intrinsics

import (
	"testing"

	"github.com/kstates/kstates/internal/engine/jsonpath"
)

func BenchmarkEvalMathAdd(b *testing.B) {
	s := &jsonpath.Scope{Input: map[string]any{"counter": int64(41)}}
	c := MustParse("States.MathAdd($.counter, 1)")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Eval(s, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEvalFormat(b *testing.B) {
	s := &jsonpath.Scope{Input: map[string]any{"name": "World", "n": int64(3)}}
	c := MustParse("States.Format('Hello {}, you are number {}', $.name, $.n)")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Eval(s, nil); err != nil {
			b.Fatal(err)
		}
	}
}
