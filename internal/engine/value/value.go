// Package value holds the engine's JSON value model and helpers.
//
// A value is one of nil, bool, int64, float64, string, []any and
// map[string]any. Integers that fit in int64 are int64; every other number
// (fractions, exponents, integers written with a decimal point such as 2.0,
// and integers too large for int64) is float64. This mirrors how AWS Step
// Functions (Java, Jackson) distinguishes IntNode/LongNode from DoubleNode,
// and lets Marshal print numbers as AWS does: 2 stays 2, 2.0 stays 2.0.
//
// The helpers never mutate their arguments. For robustness they also accept
// the other Go integer and float kinds (int, int32, float32, ...) and
// json.Number, treating them as numbers.
package value

import (
	"encoding/json"
)

// TypeName returns the JSON type name of v: null, boolean, number, string,
// array or object. Values outside the model are reported as "unknown".
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case int64, float64, int, int32, int16, int8, uint, uint64, uint32, uint16, uint8, float32, json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

// IsNumber reports whether v is a number.
func IsNumber(v any) bool { return TypeName(v) == "number" }

// Copy returns a deep copy of v: maps and slices are copied, scalars are
// returned as they are.
func Copy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = Copy(x)
		}
		return m
	case []any:
		a := make([]any, len(t))
		for i, x := range t {
			a[i] = Copy(x)
		}
		return a
	}
	return v
}
