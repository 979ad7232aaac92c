package jsonpath

import (
	"maps"
	"slices"
	"strings"

	"github.com/ohler55/ojg/jp"
)

// Go maps have no order, and ojg lists the members of an object in map
// order, so a wildcard or deep scan over an object would give its matches in
// a different order on every run. Paths that use them are evaluated step by
// step here instead: wildcards list object members by key and array elements
// by index, and deep scan visits a node before its descendants (as Jayway's
// scan reports a node's own matches first). Other steps (filters, slices,
// unions) are applied by ojg to one node at a time. AWS lists matches in
// document order; without key order in the value model, key order is the
// closest stable choice.

// stepwise reports whether x should be evaluated by getOrdered: it uses a
// wildcard or deep scan and has no filter that refers back to the root "$"
// (which only ojg's whole-document evaluation resolves).
func stepwise(x jp.Expr) bool {
	ordered := false
	for _, f := range x {
		switch t := f.(type) {
		case jp.Wildcard, jp.Descent:
			ordered = true
		case *jp.Filter:
			if strings.Contains(t.String(), "$") {
				return false
			}
		}
	}
	return ordered
}

// getOrdered applies x's steps (after the root) to doc one at a time.
func getOrdered(x jp.Expr, doc any) []any {
	cur := []any{doc}
	for _, f := range x[1:] {
		var next []any
		switch t := f.(type) {
		case jp.Bracket:
			next = cur
		case jp.Child:
			for _, v := range cur {
				if m, ok := v.(map[string]any); ok {
					if x, ok := m[string(t)]; ok {
						next = append(next, x)
					}
				}
			}
		case jp.Nth:
			for _, v := range cur {
				if a, ok := v.([]any); ok {
					i := int(t)
					if i < 0 {
						i += len(a)
					}
					if i >= 0 && i < len(a) {
						next = append(next, a[i])
					}
				}
			}
		case jp.Wildcard:
			for _, v := range cur {
				next = appendChildren(next, v)
			}
		case jp.Descent:
			for _, v := range cur {
				next = appendDescendants(next, v)
			}
		default:
			step := jp.Expr{jp.Root('$'), f}
			for _, v := range cur {
				switch v.(type) {
				case map[string]any, []any:
					next = append(next, step.Get(v)...)
				}
			}
		}
		cur = next
		if len(cur) == 0 {
			break
		}
	}
	return cur
}

func appendChildren(out []any, v any) []any {
	switch t := v.(type) {
	case []any:
		out = append(out, t...)
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(t)) {
			out = append(out, t[k])
		}
	}
	return out
}

// appendDescendants appends v and, for containers, every node below it in
// pre-order.
func appendDescendants(out []any, v any) []any {
	switch t := v.(type) {
	case []any:
		out = append(out, v)
		for _, x := range t {
			out = appendDescendants(out, x)
		}
	case map[string]any:
		out = append(out, v)
		for _, k := range slices.Sorted(maps.Keys(t)) {
			out = appendDescendants(out, t[k])
		}
	}
	return out
}
