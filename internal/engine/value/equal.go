package value

import "math"

// Equal compares two values structurally. Numbers compare by value, whatever
// their Go type (int64(1) equals float64(1.0)); objects compare by key set and
// values, arrays element by element.
func Equal(a, b any) bool { return equal(a, b, false) }

// StrictEqual is Equal except that an integer never equals a number with a
// fraction or exponent: equality as Java's JSON nodes see it (Jackson's
// IntNode(1) does not equal DoubleNode(1.0)), which States.ArrayContains and
// States.ArrayUnique follow.
func StrictEqual(a, b any) bool { return equal(a, b, true) }

func equal(a, b any, strict bool) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case int64:
		switch y := b.(type) {
		case int64:
			return x == y
		case float64:
			return !strict && intEqFloat(x, y)
		}
	case float64:
		switch y := b.(type) {
		case float64:
			return x == y
		case int64:
			return !strict && intEqFloat(y, x)
		}
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i], strict) {
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
			if !ok || !equal(xv, yv, strict) {
				return false
			}
		}
		return true
	}
	// Other Go number kinds: normalise and retry.
	na, oka := Number(a)
	nb, okb := Number(b)
	if oka && okb {
		return equal(na, nb, strict)
	}
	return false
}

// intEqFloat compares exactly, without rounding the int64 to float64.
func intEqFloat(i int64, f float64) bool {
	if f != math.Trunc(f) || f < -9.223372036854775808e18 || f >= 9.223372036854775808e18 {
		return false
	}
	return int64(f) == i
}
