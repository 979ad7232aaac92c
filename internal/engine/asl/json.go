package asl

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonReader is a small recursive-descent JSON decoder that keeps object keys
// in document order and records each value's byte offset. It is several
// times faster than encoding/json's token stream and reports errors with the
// exact offending position.
type jsonReader struct {
	data []byte
	i    int
	// Allocation helpers: nodes come from slabs; object members and array
	// elements are gathered on shared stacks and copied out at exact size;
	// object keys are interned (a definition repeats "Type", "Next"...).
	slab   []node
	keys   []string
	vals   []*node
	intern map[string]string
}

func (r *jsonReader) newNode(k kind, pos int) *node {
	if len(r.slab) == 0 {
		r.slab = make([]node, 128)
	}
	n := &r.slab[0]
	r.slab = r.slab[1:]
	n.kind, n.pos = k, pos
	return n
}

func (r *jsonReader) key(b []byte) string {
	if s, ok := r.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	if r.intern == nil {
		r.intern = make(map[string]string)
	}
	r.intern[s] = s
	return s
}

type jsonErr struct {
	off int
	msg string
}

func (e *jsonErr) Error() string { return e.msg }

// decodeJSON decodes one JSON text into a node tree.
func decodeJSON(data []byte) (*node, error) {
	r := &jsonReader{data: data}
	n, err := r.value(0)
	if err == nil {
		r.space()
		if r.i < len(r.data) {
			err = r.fail("unexpected data after the top-level value")
		}
	}
	if err != nil {
		je := err.(*jsonErr)
		if je.msg == "" {
			return nil, &syntaxError{code: CodeDefinitionTooDeep, msg: fmt.Sprintf("The definition nests objects and arrays more than %d levels deep (%s)", MaxNestingDepth, lineCol(data, int64(je.off)))}
		}
		return nil, &syntaxError{code: CodeInvalidJSON, msg: fmt.Sprintf("Invalid JSON: %s (%s)", je.msg, lineCol(data, int64(je.off)))}
	}
	return n, nil
}

func (r *jsonReader) fail(format string, args ...any) error {
	return &jsonErr{off: r.i, msg: fmt.Sprintf(format, args...)}
}

func (r *jsonReader) space() {
	for r.i < len(r.data) {
		switch r.data[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

func (r *jsonReader) describe() string {
	if r.i >= len(r.data) {
		return "end of input"
	}
	c, _ := utf8.DecodeRune(r.data[r.i:])
	return strconv.QuoteRune(c)
}

func (r *jsonReader) value(depth int) (*node, error) {
	r.space()
	if r.i >= len(r.data) {
		return nil, r.fail("unexpected end of input")
	}
	pos := r.i
	switch c := r.data[r.i]; {
	case c == '{' || c == '[':
		if depth >= MaxNestingDepth {
			return nil, &jsonErr{off: pos} // too deep
		}
		if c == '{' {
			return r.object(pos, depth)
		}
		return r.array(pos, depth)
	case c == '"':
		s, err := r.str()
		if err != nil {
			return nil, err
		}
		n := r.newNode(kString, pos)
		n.str = s
		return n, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return r.number(pos)
	case c == 't':
		n := r.newNode(kBool, pos)
		n.b = true
		return r.literal(pos, "true", n)
	case c == 'f':
		return r.literal(pos, "false", r.newNode(kBool, pos))
	case c == 'n':
		return r.literal(pos, "null", r.newNode(kNull, pos))
	}
	return nil, r.fail("unexpected character %s looking for the beginning of a value", r.describe())
}

func (r *jsonReader) literal(pos int, word string, n *node) (*node, error) {
	if len(r.data)-r.i >= len(word) && string(r.data[r.i:r.i+len(word)]) == word {
		r.i += len(word)
		return n, nil
	}
	return nil, r.fail("invalid literal, expected %s", word)
}

func (r *jsonReader) object(pos, depth int) (*node, error) {
	n := r.newNode(kObject, pos)
	r.i++ // {
	r.space()
	if r.i < len(r.data) && r.data[r.i] == '}' {
		r.i++
		return n, nil
	}
	kbase, vbase := len(r.keys), len(r.vals)
	defer func() { r.keys, r.vals = r.keys[:kbase], r.vals[:vbase] }()
	for {
		r.space()
		if r.i >= len(r.data) {
			return nil, r.fail("unexpected end of input")
		}
		if r.data[r.i] != '"' {
			return nil, r.fail("unexpected character %s looking for an object key", r.describe())
		}
		k, err := r.keyString()
		if err != nil {
			return nil, err
		}
		r.space()
		if r.i >= len(r.data) || r.data[r.i] != ':' {
			return nil, r.fail("unexpected %s after object key, expected ':'", r.describe())
		}
		r.i++
		v, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		r.keys = append(r.keys, k)
		r.vals = append(r.vals, v)
		r.space()
		if r.i >= len(r.data) {
			return nil, r.fail("unexpected end of input")
		}
		switch r.data[r.i] {
		case ',':
			r.i++
		case '}':
			r.i++
			n.keys = append([]string(nil), r.keys[kbase:]...)
			n.vals = append([]*node(nil), r.vals[vbase:]...)
			return n, nil
		default:
			return nil, r.fail("unexpected %s after object value, expected ',' or '}'", r.describe())
		}
	}
}

// keyString reads an object key: interned when it has no escapes.
func (r *jsonReader) keyString() (string, error) {
	d := r.data
	for i := r.i + 1; i < len(d); i++ {
		c := d[i]
		if c == '"' {
			b := d[r.i+1 : i]
			if !utf8.Valid(b) {
				break
			}
			r.i = i + 1
			return r.key(b), nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
	}
	return r.str()
}

func (r *jsonReader) array(pos, depth int) (*node, error) {
	n := r.newNode(kArray, pos)
	r.i++ // [
	r.space()
	if r.i < len(r.data) && r.data[r.i] == ']' {
		r.i++
		return n, nil
	}
	base := len(r.vals)
	defer func() { r.vals = r.vals[:base] }()
	for {
		v, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		r.vals = append(r.vals, v)
		r.space()
		if r.i >= len(r.data) {
			return nil, r.fail("unexpected end of input")
		}
		switch r.data[r.i] {
		case ',':
			r.i++
		case ']':
			r.i++
			n.vals = append([]*node(nil), r.vals[base:]...)
			return n, nil
		default:
			return nil, r.fail("unexpected %s after array element, expected ',' or ']'", r.describe())
		}
	}
}

func (r *jsonReader) number(pos int) (*node, error) {
	d := r.data
	i := r.i
	if d[i] == '-' {
		i++
	}
	digits := func() int {
		s := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		return i - s
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case digits() == 0:
		r.i = i
		return nil, r.fail("invalid number: expected a digit")
	}
	if i < len(d) && d[i] == '.' {
		i++
		if digits() == 0 {
			r.i = i
			return nil, r.fail("invalid number: expected a digit after the decimal point")
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if digits() == 0 {
			r.i = i
			return nil, r.fail("invalid number: expected a digit in the exponent")
		}
	}
	text := string(d[r.i:i])
	if f, err := strconv.ParseFloat(text, 64); err != nil && math.IsInf(f, 0) {
		return nil, r.fail("number %s is out of range", text)
	}
	r.i = i
	n := r.newNode(kNumber, pos)
	n.str = text
	return n, nil
}

// str reads a string literal starting at the opening quote.
func (r *jsonReader) str() (string, error) {
	d := r.data
	r.i++ // opening quote
	start := r.i
	// Fast path: no escapes.
	for i := start; i < len(d); i++ {
		c := d[i]
		if c == '"' {
			s := d[start:i]
			if !utf8.Valid(s) {
				r.i = start
				return "", r.fail("invalid UTF-8 in string")
			}
			r.i = i + 1
			return string(s), nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
	}
	var buf []byte
	i := start
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			if !utf8.Valid(buf) {
				r.i = start
				return "", r.fail("invalid UTF-8 in string")
			}
			r.i = i + 1
			return string(buf), nil
		case c < 0x20:
			r.i = i
			return "", r.fail("invalid control character %q in string", c)
		case c == '\\':
			if i+1 >= len(d) {
				r.i = i
				return "", r.fail("unexpected end of input in string escape")
			}
			e := d[i+1]
			i += 2
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r1, ok := hex4(d, i)
				if !ok {
					r.i = i
					return "", r.fail("invalid \\u escape in string")
				}
				i += 4
				if utf16.IsSurrogate(r1) {
					if r2, ok := hex4(d, i+2); ok && i+1 < len(d) && d[i] == '\\' && d[i+1] == 'u' {
						if dec := utf16.DecodeRune(r1, r2); dec != utf8.RuneError {
							buf = utf8.AppendRune(buf, dec)
							i += 6
							continue
						}
					}
					r1 = utf8.RuneError
				}
				buf = utf8.AppendRune(buf, r1)
			default:
				r.i = i - 1
				return "", r.fail("invalid escape character %q in string", e)
			}
		default:
			buf = append(buf, c)
			i++
		}
	}
	r.i = len(d)
	return "", r.fail("unexpected end of input in string")
}

func hex4(d []byte, i int) (rune, bool) {
	if i+4 > len(d) {
		return 0, false
	}
	var v rune
	for _, c := range d[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}
