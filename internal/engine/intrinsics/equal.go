package intrinsics

import "github.com/kstates/kstates/internal/engine/value"

// javaEqual is equality as Java's JSON nodes see it, used by
// States.ArrayContains and States.ArrayUnique: like value.Equal, except that
// an integer never equals a number written with a fraction or exponent
// (Jackson's IntNode(1) does not equal DoubleNode(1.0)).
func javaEqual(a, b any) bool {
	switch x := a.(type) {
	case int64:
		y, ok := b.(int64)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !javaEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !javaEqual(xv, yv) {
				return false
			}
		}
		return true
	}
	return value.Equal(a, b)
}
