package jsonpath

import (
	"sort"
	"testing"

	"github.com/kstates/kstates/internal/engine/value"
)

// sameMatches reports whether the step-by-step evaluation finds the same
// values as ojg's own evaluation, order aside.
func sameMatches(p *Path, doc any) (ours, theirs []string, same bool) {
	for _, v := range getOrdered(p.expr, doc) {
		ours = append(ours, value.MarshalString(v))
	}
	for _, v := range p.expr.Get(doc) {
		theirs = append(theirs, value.MarshalString(v))
	}
	sort.Strings(ours)
	sort.Strings(theirs)
	if len(ours) != len(theirs) {
		return ours, theirs, false
	}
	for i := range ours {
		if ours[i] != theirs[i] {
			return ours, theirs, false
		}
	}
	return ours, theirs, true
}

func TestOrderedEvaluationFindsWhatOJGFinds(t *testing.T) {
	doc := mustParse(t, `{"a":[{"x":1,"b":{"x":2}},{"x":3,"c":[{"x":4}]}],"b":{"x":5,"y":{"z":{"x":6}}},"x":7,"s":[1,2,3,4,5]}`)
	for _, src := range []string{
		"$..x", "$.*", "$..*", "$.a[*].x", "$..[?(@.x > 2)].x", "$.a[*].c[0].x",
		"$..s[1:3]", "$..s[0,2]", "$.*.x", "$..b.x", "$.a..c[*].x", "$..a[-1].x", "$.b.*.z",
	} {
		p := MustCompile(src)
		if !p.ordered {
			t.Errorf("%s should be evaluated step by step", src)
			continue
		}
		if ours, theirs, ok := sameMatches(p, doc); !ok {
			t.Errorf("%s: step by step found %v, ojg found %v", src, ours, theirs)
		}
	}
}

func TestDeepScanBelowAWildcardReachesIntoArrays(t *testing.T) {
	// ojg's own evaluation misses {"x":4} here; Jayway (and this package)
	// find every x below each element.
	doc := mustParse(t, `{"a":[{"x":1,"b":{"x":2}},{"x":3,"c":[{"x":4}]}]}`)
	got, err := MustCompile("$.a[*]..x").Get(&Scope{Input: doc})
	if err != nil || !value.Equal(got, mustParse(t, `[1,2,3,4]`)) {
		t.Fatalf("$.a[*]..x = %s, %v; want [1,2,3,4]", value.Marshal(got), err)
	}
}

func TestFilterReferringToTheRootSeesTheWholeInput(t *testing.T) {
	doc := mustParse(t, `{"min":2,"items":[{"v":1},{"v":2},{"v":3}]}`)
	for _, src := range []string{"$.items[?(@.v >= $.min)].v", "$..[?(@.v >= $.min)].v"} {
		got, err := MustCompile(src).Get(&Scope{Input: doc})
		if err != nil {
			t.Fatal(err)
		}
		if !value.Equal(got, mustParse(t, `[2,3]`)) {
			t.Errorf("%s = %s, want [2,3]", src, value.Marshal(got))
		}
	}
}
