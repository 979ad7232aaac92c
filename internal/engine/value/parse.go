package value

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/ohler55/ojg"
	"github.com/ohler55/ojg/oj"
)

// MaxDepth is the deepest nesting of arrays and objects Parse accepts
// (Jackson's default limit is also 1000).
const MaxDepth = 1000

// ErrTooDeep is wrapped by Parse's error when the document nests arrays and
// objects more than MaxDepth levels deep.
var ErrTooDeep = errors.New("JSON nesting too deep")

var parsers = sync.Pool{New: func() any { return &oj.Parser{} }}

// Parse decodes one JSON text into the value model: integers that fit are
// int64, other numbers float64. Trailing non-space characters, numbers out of
// float64 range, invalid UTF-8 in strings and nesting deeper than MaxDepth are
// errors.
func Parse(data []byte) (any, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("invalid JSON: empty input")
	}
	v, err := ojParse(data)
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if n, ok := v.(json.Number); ok {
		if v, ok = bigNumber(n); !ok {
			return nil, &checkError{msg: "number out of range"}
		}
	}
	if e := check(v, 1); e != nil {
		if e.err == ErrTooDeep && len(e.path) > 8 {
			e.path = e.path[len(e.path)-8:]
			e.path[0] = "..."
		}
		return nil, e
	}
	return v, nil
}

// ParseString is Parse for a string.
func ParseString(s string) (any, error) { return Parse([]byte(s)) }

// bigNumber converts a number ojg could not hold in its fast path (19 or
// more digits): to int64 when it is an integer that fits, else to a finite
// float64.
func bigNumber(n json.Number) (any, bool) {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i, true
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, false
	}
	if math.IsInf(f, 0) {
		return nil, false
	}
	return f, true
}

// checkError is a problem found by check; path is built while unwinding so
// that the common (valid) case allocates nothing.
type checkError struct {
	msg  string
	err  error
	path []string // innermost first
}

func (e *checkError) Error() string {
	loc := "$"
	for i := len(e.path) - 1; i >= 0; i-- {
		loc += e.path[i]
	}
	return "invalid JSON: " + e.msg + " at " + loc
}

func (e *checkError) Unwrap() error { return e.err }

// check enforces what the parser does not: depth, finite numbers and valid
// UTF-8.
func check(v any, depth int) *checkError {
	var ok bool
	switch t := v.(type) {
	case float64:
		if math.IsInf(t, 0) || math.IsNaN(t) {
			return &checkError{msg: "number out of range"}
		}
	case string:
		if !utf8.ValidString(t) {
			return &checkError{msg: "invalid UTF-8 in string"}
		}
	case []any:
		if depth > MaxDepth {
			return &checkError{msg: fmt.Sprintf("nesting deeper than %d levels", MaxDepth), err: ErrTooDeep}
		}
		for i, x := range t {
			switch n := x.(type) {
			case nil, bool, int64:
				continue
			case json.Number:
				if t[i], ok = bigNumber(n); !ok {
					return &checkError{msg: "number out of range", path: []string{"[" + strconv.Itoa(i) + "]"}}
				}
				continue
			}
			if e := check(x, depth+1); e != nil {
				e.path = append(e.path, "["+strconv.Itoa(i)+"]")
				return e
			}
		}
	case map[string]any:
		if depth > MaxDepth {
			return &checkError{msg: fmt.Sprintf("nesting deeper than %d levels", MaxDepth), err: ErrTooDeep}
		}
		for k, x := range t {
			if !utf8.ValidString(k) {
				return &checkError{msg: "invalid UTF-8 in key"}
			}
			switch n := x.(type) {
			case nil, bool, int64:
				continue
			case json.Number:
				if t[k], ok = bigNumber(n); !ok {
					return &checkError{msg: "number out of range", path: []string{"." + k}}
				}
				continue
			}
			if e := check(x, depth+1); e != nil {
				e.path = append(e.path, "."+k)
				return e
			}
		}
	}
	return nil
}

// ojParse runs a pooled ojg parser. ojg v1.28.5 panics on some malformed
// documents (`{"a": {"b":}, "": 0`: an assignment to a nil map inside the
// parser), so a panic becomes an error and the parser, whose state is then
// unknown, is not returned to the pool.
func ojParse(data []byte) (v any, err error) {
	p := parsers.Get().(*oj.Parser)
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("malformed document (parser failure: %v)", r)
			return
		}
		parsers.Put(p)
	}()
	return p.Parse(data, ojg.NumConvNone)
}
