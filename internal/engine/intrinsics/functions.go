package intrinsics

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/kstates/kstates/internal/engine/value"
)

// Limits AWS documents for the intrinsic functions.
const (
	MaxArrayRange  = 1000  // elements States.ArrayRange may produce
	MaxBase64Input = 10000 // characters States.Base64Encode/Decode accept
	MaxHashInput   = 10000 // characters States.Hash accepts
)

var functions = map[string]*function{}

func register(f *function) { functions[f.name] = f }

func init() {
	register(&function{name: "States.Format", min: 1, max: -1, kinds: []kind{kString, kAny}, eval: evalFormat, static: staticFormat})
	register(&function{name: "States.StringToJson", min: 1, max: 1, kinds: []kind{kString}, eval: evalStringToJSON})
	register(&function{name: "States.JsonToString", min: 1, max: 1, eval: func(_ *Call, a []any, _ *Env) (any, error) {
		return value.MarshalString(a[0]), nil
	}})
	register(&function{name: "States.Array", min: 0, max: -1, eval: func(_ *Call, a []any, _ *Env) (any, error) {
		out := make([]any, len(a))
		copy(out, a)
		return out, nil
	}})
	register(&function{name: "States.ArrayPartition", min: 2, max: 2, kinds: []kind{kArray, kInt}, eval: evalArrayPartition})
	register(&function{name: "States.ArrayContains", min: 2, max: 2, kinds: []kind{kArray, kAny}, eval: func(_ *Call, a []any, _ *Env) (any, error) {
		for _, x := range a[0].([]any) {
			if value.StrictEqual(x, a[1]) {
				return true, nil
			}
		}
		return false, nil
	}})
	register(&function{name: "States.ArrayRange", min: 3, max: 3, kinds: []kind{kNumber}, eval: evalArrayRange})
	register(&function{name: "States.ArrayGetItem", min: 2, max: 2, kinds: []kind{kArray, kInt}, eval: func(c *Call, a []any, _ *Env) (any, error) {
		arr, i := a[0].([]any), toInt(a[1])
		if i < 0 || i >= int64(len(arr)) {
			return nil, failf("%s: index %d is out of bounds for an array of length %d", c.fn.name, i, len(arr))
		}
		return arr[i], nil
	}})
	register(&function{name: "States.ArrayLength", min: 1, max: 1, kinds: []kind{kArray}, eval: func(_ *Call, a []any, _ *Env) (any, error) {
		return int64(len(a[0].([]any))), nil
	}})
	register(&function{name: "States.ArrayUnique", min: 1, max: 1, kinds: []kind{kArray}, eval: evalArrayUnique})
	register(&function{name: "States.Base64Encode", min: 1, max: 1, kinds: []kind{kString}, eval: evalBase64Encode})
	register(&function{name: "States.Base64Decode", min: 1, max: 1, kinds: []kind{kString}, eval: evalBase64Decode})
	register(&function{name: "States.Hash", min: 2, max: 2, kinds: []kind{kString, kString}, eval: evalHash, static: staticHash})
	register(&function{name: "States.JsonMerge", min: 3, max: 3, kinds: []kind{kObject, kObject, kBool}, eval: evalJSONMerge, static: staticJSONMerge})
	register(&function{name: "States.MathRandom", min: 2, max: 3, kinds: []kind{kNumber}, eval: evalMathRandom})
	register(&function{name: "States.MathAdd", min: 2, max: 2, kinds: []kind{kNumber}, eval: evalMathAdd})
	register(&function{name: "States.StringSplit", min: 2, max: 2, kinds: []kind{kString}, eval: evalStringSplit})
	register(&function{name: "States.UUID", min: 0, max: 0, eval: evalUUID})
}

func evalStringToJSON(c *Call, a []any, _ *Env) (any, error) {
	s := a[0].(string)
	if strings.TrimSpace(s) == "" {
		return nil, nil // Jackson reads blank text as no value: null
	}
	v, err := value.ParseString(s)
	if err != nil {
		return nil, failf("%s: the argument is not valid JSON: %s", c.fn.name, strings.TrimPrefix(err.Error(), "invalid JSON: "))
	}
	return v, nil
}

func evalArrayPartition(c *Call, a []any, _ *Env) (any, error) {
	arr, size := a[0].([]any), toInt(a[1])
	if size <= 0 {
		return nil, failf("%s: the chunk size must be greater than 0, but it is %d", c.fn.name, size)
	}
	out := make([]any, 0, (int64(len(arr))+size-1)/size)
	for i := int64(0); i < int64(len(arr)); i += size {
		end := min(i+size, int64(len(arr)))
		chunk := make([]any, end-i)
		copy(chunk, arr[i:end])
		out = append(out, chunk)
	}
	return out, nil
}

// evalArrayRange rounds non-integer arguments to the nearest integer, as
// AWS documents.
func evalArrayRange(c *Call, a []any, _ *Env) (any, error) {
	first, last, step := javaRound(a[0]), javaRound(a[1]), javaRound(a[2])
	if step == 0 {
		return nil, failf("%s: the step must not be 0", c.fn.name)
	}
	var n int64
	switch {
	case step > 0 && first <= last:
		n = (last-first)/step + 1
	case step < 0 && first >= last:
		n = (first-last)/(-step) + 1
	}
	if n > MaxArrayRange || n < 0 {
		return nil, failf("%s: the range would have more than %d elements", c.fn.name, MaxArrayRange)
	}
	out := make([]any, n)
	for i := range out {
		out[i] = first + int64(i)*step
	}
	return out, nil
}

func evalArrayUnique(_ *Call, a []any, _ *Env) (any, error) {
	arr := a[0].([]any)
	out := make([]any, 0, len(arr))
next:
	for _, x := range arr {
		for _, y := range out {
			if value.StrictEqual(x, y) {
				continue next
			}
		}
		out = append(out, x)
	}
	return out, nil
}

func evalBase64Encode(c *Call, a []any, _ *Env) (any, error) {
	s := a[0].(string)
	if n := utf8.RuneCountInString(s); n > MaxBase64Input {
		return nil, failf("%s: the input has %d characters; the maximum is %d", c.fn.name, n, MaxBase64Input)
	}
	return base64.StdEncoding.EncodeToString([]byte(s)), nil
}

func evalBase64Decode(c *Call, a []any, _ *Env) (any, error) {
	s := a[0].(string)
	if n := utf8.RuneCountInString(s); n > MaxBase64Input {
		return nil, failf("%s: the input has %d characters; the maximum is %d", c.fn.name, n, MaxBase64Input)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	}
	if err != nil {
		return nil, failf("%s: the input is not valid base64: %q", c.fn.name, shorten(s))
	}
	if !utf8.Valid(b) {
		return strings.ToValidUTF8(string(b), "\ufffd"), nil
	}
	return string(b), nil
}

func shorten(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

var hashes = map[string]func() hash.Hash{
	"MD5": md5.New, "SHA-1": sha1.New, "SHA-256": sha256.New, "SHA-384": sha512.New384, "SHA-512": sha512.New,
}

const hashNames = "MD5, SHA-1, SHA-256, SHA-384, SHA-512"

func staticHash(c *Call) error {
	if a := c.args[1]; a.path == nil && a.call == nil {
		if _, ok := hashes[a.lit.(string)]; !ok {
			return failf("%s: unsupported algorithm %q; use one of %s", c.fn.name, a.lit, hashNames)
		}
	}
	return nil
}

func evalHash(c *Call, a []any, _ *Env) (any, error) {
	data, alg := a[0].(string), a[1].(string)
	if n := utf8.RuneCountInString(data); n > MaxHashInput {
		return nil, failf("%s: the input has %d characters; the maximum is %d", c.fn.name, n, MaxHashInput)
	}
	h, ok := hashes[alg]
	if !ok {
		return nil, failf("%s: unsupported algorithm %q; use one of %s", c.fn.name, alg, hashNames)
	}
	w := h()
	w.Write([]byte(data))
	return hex.EncodeToString(w.Sum(nil)), nil
}

func staticJSONMerge(c *Call) error {
	if a := c.args[2]; a.path == nil && a.call == nil && a.lit == true {
		return failf("%s: deep merging is not supported; the third argument must be false", c.fn.name)
	}
	return nil
}

func evalJSONMerge(c *Call, a []any, _ *Env) (any, error) {
	if a[2].(bool) {
		return nil, failf("%s: deep merging is not supported; the third argument must be false", c.fn.name)
	}
	x, y := a[0].(map[string]any), a[1].(map[string]any)
	out := make(map[string]any, len(x)+len(y))
	for k, v := range x {
		out[k] = v
	}
	for k, v := range y {
		out[k] = v
	}
	return out, nil
}

// javaRound is Java's Math.round: floor(x + 0.5), saturating at the int64
// range, NaN giving 0.
func javaRound(v any) int64 {
	switch t := v.(type) {
	case int64:
		return t
	case float64:
		r := math.Floor(t + 0.5)
		switch {
		case r != r:
			return 0
		case r >= math.MaxInt64:
			return math.MaxInt64
		case r <= math.MinInt64:
			return math.MinInt64
		}
		return int64(r)
	}
	return 0
}

func evalMathAdd(c *Call, a []any, _ *Env) (any, error) {
	// AWS rounds each operand to an integer (half up) before adding.
	x, y := javaRound(a[0]), javaRound(a[1])
	s := x + y
	if (x > 0 && y > 0 && s < 0) || (x < 0 && y < 0 && s >= 0) {
		return nil, failf("%s: the sum of %d and %d overflows", c.fn.name, x, y)
	}
	return s, nil
}

// evalStringSplit splits at any of the delimiter's characters and drops empty
// pieces, as Java's StringTokenizer does.
func evalStringSplit(_ *Call, a []any, _ *Env) (any, error) {
	s, delims := a[0].(string), a[1].(string)
	out := []any{}
	if delims == "" {
		if s != "" {
			out = append(out, s)
		}
		return out, nil
	}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(delims, r) }) {
		out = append(out, f)
	}
	return out, nil
}
