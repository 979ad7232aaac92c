package asl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Limits on the documents Parse accepts.
const (
	// MaxDefinitionSize is AWS's limit on a definition: 1 MiB.
	MaxDefinitionSize = 1 << 20
	// MaxNestingDepth is the deepest nesting of objects and arrays accepted.
	MaxNestingDepth = 256
)

// kind is the JSON type of a node.
type kind uint8

const (
	kNull kind = iota
	kBool
	kNumber
	kString
	kArray
	kObject
)

func (k kind) String() string {
	return [...]string{"null", "boolean", "number", "string", "array", "object"}[k]
}

// node is a decoded JSON value that keeps object keys in document order and
// each value's position, so that diagnostics can be ordered by position.
type node struct {
	kind kind
	pos  int // byte offset (JSON) or ordinal (YAML, decoded values)
	b    bool
	str  string // string value, or the number's text
	keys []string
	vals []*node // object values (parallel to keys) or array elements
}

// get returns the value of key in an object node, or nil.
func (n *node) get(key string) *node {
	if n == nil || n.kind != kObject {
		return nil
	}
	for i, k := range n.keys {
		if k == key {
			return n.vals[i]
		}
	}
	return nil
}

// syntaxError is a document that could not be decoded.
type syntaxError struct {
	code string
	msg  string
}

func (e *syntaxError) Error() string { return e.msg }

var errTooDeep = errors.New("too deep")

// lineCol renders the 1-based line and column of byte offset off.
func lineCol(data []byte, off int64) string {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	before := data[:off]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return fmt.Sprintf("line %d, column %d", line, col)
}

// fromValue builds a node tree from an already-decoded value. Object keys are
// sorted (a Go map has no order).
func fromValue(v any, depth int, seq *int) (*node, error) {
	if depth > MaxNestingDepth {
		return nil, errTooDeep
	}
	n := &node{pos: *seq}
	*seq++
	switch t := v.(type) {
	case nil:
		n.kind = kNull
	case bool:
		n.kind, n.b = kBool, t
	case string:
		n.kind, n.str = kString, t
	case json.Number:
		n.kind, n.str = kNumber, string(t)
	case int64:
		n.kind, n.str = kNumber, strconv.FormatInt(t, 10)
	case int:
		n.kind, n.str = kNumber, strconv.Itoa(t)
	case int32:
		n.kind, n.str = kNumber, strconv.FormatInt(int64(t), 10)
	case uint64:
		n.kind, n.str = kNumber, strconv.FormatUint(t, 10)
	case float64:
		if math.IsInf(t, 0) || math.IsNaN(t) {
			return nil, fmt.Errorf("number %v is not valid JSON", t)
		}
		// A whole float64 (as encoding/json decodes every number) becomes
		// an integer, as the engine's value model has it.
		n.kind, n.str = kNumber, strconv.FormatFloat(t, 'g', -1, 64)
	case float32:
		n.kind, n.str = kNumber, strconv.FormatFloat(float64(t), 'g', -1, 32)
	case []any:
		n.kind = kArray
		for _, e := range t {
			c, err := fromValue(e, depth+1, seq)
			if err != nil {
				return nil, err
			}
			n.vals = append(n.vals, c)
		}
	case map[string]any:
		n.kind = kObject
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			c, err := fromValue(t[k], depth+1, seq)
			if err != nil {
				return nil, err
			}
			n.keys = append(n.keys, k)
			n.vals = append(n.vals, c)
		}
	default:
		return nil, fmt.Errorf("unsupported value of type %T", v)
	}
	return n, nil
}

// toAny converts a node to the engine's value model (nil, bool, int64,
// float64, string, []any, map[string]any). For duplicate keys the last wins.
func (n *node) toAny() any {
	switch n.kind {
	case kNull:
		return nil
	case kBool:
		return n.b
	case kString:
		return n.str
	case kNumber:
		return numberValue(n.str)
	case kArray:
		out := make([]any, len(n.vals))
		for i, v := range n.vals {
			out[i] = v.toAny()
		}
		return out
	default:
		out := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			out[k] = n.vals[i].toAny()
		}
		return out
	}
}

// numberValue converts number text: an integer that fits is int64, every
// other number float64 (as the value package does).
func numberValue(s string) any {
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i
		}
	}
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// integer returns the number as an int64 when it is integral (2 and 2.0 both
// count, as in AWS's schema).
func (n *node) integer() (int64, bool) {
	if n.kind != kNumber {
		return 0, false
	}
	switch v := numberValue(n.str).(type) {
	case int64:
		return v, true
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<63 {
			return int64(v), true
		}
	}
	return 0, false
}

func (n *node) float() float64 {
	f, _ := strconv.ParseFloat(n.str, 64)
	return f
}
