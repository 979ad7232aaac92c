package jsonata

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"sort"
	"strconv"
)

// undefinedType is the type of Undefined.
type undefinedType struct{}

// Undefined is returned by Evaluate when the result of an expression is
// JSONata's `undefined` (no value), which is distinct from JSON null (nil).
var Undefined any = undefinedType{}

// IsUndefined reports whether v is the Undefined sentinel.
func IsUndefined(v any) bool { _, ok := v.(undefinedType); return ok }

// nullType represents JSON null inside the evaluator (internally Go nil means undefined).
type nullType struct{}

var jnull any = nullType{}

func isNull(v any) bool { _, ok := v.(nullType); return ok }

// Array is the internal array/sequence representation.
type Array struct {
	items         []any
	seq           bool
	keepSingleton bool
	tupleStream   bool
	outerWrapper  bool
	cons          bool
}

func newSeq(items ...any) *Array { return &Array{items: items, seq: true} }

func newArr(items []any) *Array { return &Array{items: items} }

func (a *Array) push(v any) { a.items = append(a.items, v) }

// Object is an insertion-ordered JSON object. Keys that are canonical array
// indexes are ordered first in ascending numeric order, as in JavaScript.
type Object struct {
	keys   []string
	vals   []any
	idx    map[string]int // built for larger objects
	hasIdx bool
}

// NewObject returns an empty ordered object.
func NewObject() *Object { return &Object{} }

// smallObject holds an Object and the backing arrays of its first few
// entries in one allocation.
type smallObject struct {
	o Object
	k [smallObjectSize]string
	v [smallObjectSize]any
}

const smallObjectSize = 4

func newObjectCap(n int) *Object {
	if n <= smallObjectSize {
		s := &smallObject{}
		s.o.keys = s.k[:0]
		s.o.vals = s.v[:0]
		return &s.o
	}
	return &Object{keys: make([]string, 0, n), vals: make([]any, 0, n)}
}

func isIndexKey(k string) bool {
	if k == "" || len(k) > 10 {
		return false
	}
	if k == "0" {
		return true
	}
	if k[0] == '0' {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < '0' || k[i] > '9' {
			return false
		}
	}
	n, _ := strconv.ParseUint(k, 10, 64)
	return n < 4294967295
}

const objectIndexThreshold = 8

func (o *Object) find(k string) int {
	if o.idx != nil {
		if i, ok := o.idx[k]; ok {
			return i
		}
		return -1
	}
	for i, kk := range o.keys {
		if kk == k {
			return i
		}
	}
	return -1
}

func (o *Object) get(k string) any {
	if i := o.find(k); i >= 0 {
		return o.vals[i]
	}
	return nil
}

// Set sets a key, keeping the insertion order of the first Set.
func (o *Object) Set(k string, v any) {
	if i := o.find(k); i >= 0 {
		o.vals[i] = v
		return
	}
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
	if !o.hasIdx && isIndexKey(k) {
		o.hasIdx = true
	}
	if o.idx != nil {
		o.idx[k] = len(o.keys) - 1
	} else if len(o.keys) > objectIndexThreshold {
		o.reindex()
	}
}

func (o *Object) reindex() {
	o.idx = make(map[string]int, len(o.keys))
	for i, k := range o.keys {
		o.idx[k] = i
	}
}

// Get returns the value of a key.
func (o *Object) Get(k string) (any, bool) {
	if i := o.find(k); i >= 0 {
		return o.vals[i], true
	}
	return nil, false
}

// Delete removes a key.
func (o *Object) Delete(k string) {
	i := o.find(k)
	if i < 0 {
		return
	}
	o.keys = append(o.keys[:i:i], o.keys[i+1:]...)
	o.vals = append(o.vals[:i:i], o.vals[i+1:]...)
	if o.idx != nil {
		o.reindex()
	}
}

// Len returns the number of keys.
func (o *Object) Len() int { return len(o.keys) }

// Keys returns the keys in JavaScript property order.
func (o *Object) Keys() []string {
	if !o.hasIdx {
		return o.keys
	}
	var idx, rest []string
	for _, k := range o.keys {
		if isIndexKey(k) {
			idx = append(idx, k)
		} else {
			rest = append(rest, k)
		}
	}
	sort.Slice(idx, func(i, j int) bool {
		a, _ := strconv.ParseUint(idx[i], 10, 64)
		b, _ := strconv.ParseUint(idx[j], 10, 64)
		return a < b
	})
	return append(idx, rest...)
}

// ToMap converts the object (recursively) into plain Go maps and slices.
func (o *Object) ToMap() map[string]any {
	r := make(map[string]any, len(o.keys))
	for i, k := range o.keys {
		r[k] = plain(o.vals[i])
	}
	return r
}

func plain(v any) any {
	switch t := v.(type) {
	case *Object:
		return t.ToMap()
	case []any:
		r := make([]any, len(t))
		for i, x := range t {
			r[i] = plain(x)
		}
		return r
	}
	return v
}

// MarshalJSON writes the object with its keys in order.
func (o *Object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.Keys() {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(o.get(k))
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads an object preserving key order (nested objects become *Object).
func (o *Object) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeOrdered(dec)
	if err != nil {
		return err
	}
	obj, ok := v.(*Object)
	if !ok {
		return &json.UnsupportedValueError{Str: "not an object"}
	}
	*o = *obj
	return nil
}

// DecodeJSON decodes JSON text into the value model with ordered objects
// (*Object), []any arrays, float64 numbers, string, bool and nil.
func DecodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return decodeOrdered(dec)
}

func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := NewObject()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				o.Set(k, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return o, nil
		case '[':
			a := []any{}
			for dec.More() {
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return a, nil
		}
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil && !math.IsInf(f, 0) {
			return nil, err
		}
		return f, nil
	}
	return tok, nil
}

// Prepared is an input value converted once into the evaluator's internal
// model. Passing it to Evaluate (as input or as a binding value) skips the
// per-call conversion, which dominates the cost of simple expressions over
// large inputs. A Prepared value is read-only and safe for concurrent use.
type Prepared struct{ v any }

// Prepare converts a Go JSON-model value (see the package documentation) for
// repeated evaluations.
func Prepare(v any) *Prepared { return &Prepared{v: toInternal(v)} }

// toInternal converts a Go JSON-model value into the evaluator's model.
func toInternal(v any) any {
	switch t := v.(type) {
	case *Prepared:
		return t.v
	case nil:
		return jnull
	case undefinedType:
		return nil
	case float64, string, bool:
		return v
	case int:
		return float64(t)
	case int64:
		return float64(t)
	case int32:
		return float64(t)
	case float32:
		return float64(t)
	case uint:
		return float64(t)
	case uint64:
		return float64(t)
	case json.Number:
		f, _ := t.Float64()
		return f
	case []any:
		items := make([]any, len(t))
		for i, x := range t {
			items[i] = toInternal(x)
		}
		return &Array{items: items}
	case map[string]any:
		o := newObjectCap(len(t))
		for k := range t {
			o.keys = append(o.keys, k)
		}
		slices.Sort(o.keys)
		for _, k := range o.keys {
			o.vals = append(o.vals, toInternal(t[k]))
			if !o.hasIdx && isIndexKey(k) {
				o.hasIdx = true
			}
		}
		if len(o.keys) > objectIndexThreshold {
			o.reindex()
		}
		return o
	case *Object:
		o := newObjectCap(len(t.keys))
		o.hasIdx = t.hasIdx
		o.keys = append(o.keys, t.keys...)
		for _, v := range t.vals {
			o.vals = append(o.vals, toInternal(v))
		}
		if len(o.keys) > objectIndexThreshold {
			o.reindex()
		}
		return o
	case []string:
		items := make([]any, len(t))
		for i, x := range t {
			items[i] = x
		}
		return &Array{items: items}
	case []float64:
		items := make([]any, len(t))
		for i, x := range t {
			items[i] = x
		}
		return &Array{items: items}
	case func(args ...any) (any, error):
		return &Builtin{name: "extension", arity: -1, ext: t}
	case Function:
		return &Builtin{name: "extension", arity: -1, ext: t}
	}
	return v
}

// fromInternal converts an evaluator value into the public model.
func fromInternal(v any) any {
	switch t := v.(type) {
	case nil:
		return Undefined
	case nullType:
		return nil
	case *Array:
		r := make([]any, 0, len(t.items))
		for _, x := range t.items {
			if x == nil {
				continue
			}
			r = append(r, fromInternal(x))
		}
		return r
	case *Object:
		o := newObjectCap(len(t.keys))
		for _, k := range t.Keys() {
			x := t.get(k)
			if x == nil {
				continue
			}
			o.Set(k, fromInternal(x))
		}
		return o
	case map[string]any: // tuple leaked
		return fromInternal(t["@"])
	}
	return v
}
