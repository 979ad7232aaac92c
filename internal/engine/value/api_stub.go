// Package value holds the engine's JSON value model and helpers: values are
// nil, bool, int64, float64, string, []any and map[string]any.
package value

import "encoding/json"

// CONTRACT STUB (to be replaced by the implementation; signatures are fixed).

// Parse decodes JSON text into the value model (integers as int64 when they
// fit, other numbers as float64).
func Parse(data []byte) (any, error) { var v any; err := json.Unmarshal(data, &v); return v, err }

// Marshal encodes a value as compact JSON with object keys sorted.
func Marshal(v any) []byte { b, _ := json.Marshal(v); return b }

// Equal compares two values structurally; numbers compare by value (1 == 1.0).
func Equal(a, b any) bool { return string(Marshal(a)) == string(Marshal(b)) }

// Size returns the length in bytes of the value's JSON encoding, without
// allocating it when possible (used for the 256 KiB payload limit).
func Size(v any) int { return len(Marshal(v)) }

// Copy returns a deep copy.
func Copy(v any) any { x, _ := Parse(Marshal(v)); return x }

// TypeName returns the JSON type name: null, boolean, number, string, array, object.
func TypeName(v any) string { return "" }
