package jsonpath

import (
	"sort"

	"github.com/ohler55/ojg/jp"
)

// Go maps have no order, so a wildcard or deep scan over an object would list
// its matches in a different order on every run. Paths that use them are
// evaluated through ojg's Locate instead: the locations of the matches are
// sorted (by the object or array holding each match, in pre-order with
// members by key and elements by index; then by the match's own key or
// index) and then read, which makes the result deterministic. AWS
// lists matches in document order; without key order in the value model,
// key order is the closest stable choice.

// needsOrdering reports whether x uses a wildcard or deep scan.
func needsOrdering(x jp.Expr) bool {
	for _, f := range x {
		switch f.(type) {
		case jp.Wildcard, jp.Descent:
			return true
		}
	}
	return false
}

func getOrdered(x jp.Expr, doc any) []any {
	locs := x.Locate(doc, 0)
	sort.SliceStable(locs, func(i, j int) bool {
		a, b := locs[i], locs[j]
		if len(a) == 0 || len(b) == 0 {
			return len(a) < len(b)
		}
		// The parent first (as Jayway's scan reports a node's own matches
		// before its descendants'), then the member or index.
		pa, pb := a[:len(a)-1], b[:len(b)-1]
		if lessLoc(pa, pb) {
			return true
		}
		if lessLoc(pb, pa) {
			return false
		}
		return lessLoc(a[len(a)-1:], b[len(b)-1:])
	})
	out := make([]any, 0, len(locs))
	for _, l := range locs {
		if v, ok := follow(doc, l); ok {
			out = append(out, v)
		}
	}
	return out
}

func lessLoc(a, b jp.Expr) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		switch fa := a[i].(type) {
		case jp.Nth:
			fb, ok := b[i].(jp.Nth)
			if !ok {
				return true
			}
			if fa != fb {
				return fa < fb
			}
		case jp.Child:
			fb, ok := b[i].(jp.Child)
			if !ok {
				if _, isNth := b[i].(jp.Nth); isNth {
					return false
				}
				return true
			}
			if fa != fb {
				return fa < fb
			}
		}
	}
	return len(a) < len(b)
}

// follow reads a normalized location (root, children and indexes).
func follow(v any, loc jp.Expr) (any, bool) {
	for _, f := range loc {
		switch t := f.(type) {
		case jp.Root:
		case jp.Child:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[string(t)]; !ok {
				return nil, false
			}
		case jp.Nth:
			a, ok := v.([]any)
			if !ok {
				return nil, false
			}
			i := int(t)
			if i < 0 {
				i += len(a)
			}
			if i < 0 || i >= len(a) {
				return nil, false
			}
			v = a[i]
		default:
			return nil, false
		}
	}
	return v, true
}
