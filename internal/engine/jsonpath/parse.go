package jsonpath

import (
	"fmt"
	"strconv"
	"strings"
)

// SyntaxError is a malformed path: it names the problem and the offset (in
// bytes, from 0) where it was found.
type SyntaxError struct {
	Src    string
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSONPath %q: %s at offset %d", e.Src, e.Msg, e.Offset)
}

// root says what a path starts from.
type root uint8

const (
	rootInput root = iota
	rootContext
	rootVariable
)

// seg is one step of a definite path: a key, or an array index (negative
// counts from the end).
type seg struct {
	key     string
	index   int
	isIndex bool
}

// String renders the step as Jayway does in its messages: ['key'] or [n].
func (s seg) String() string {
	if s.isIndex {
		return "[" + strconv.Itoa(s.index) + "]"
	}
	return "['" + s.key + "']"
}

// splitRoot reads the root of src and returns it with the offset at which
// the segments start.
func splitRoot(src string) (r root, name string, rest int, err error) {
	if src == "" {
		return 0, "", 0, &SyntaxError{Src: src, Msg: "empty path"}
	}
	if src[0] != '$' {
		return 0, "", 0, &SyntaxError{Src: src, Msg: "a path must start with '$'"}
	}
	if len(src) == 1 {
		return rootInput, "", 1, nil
	}
	switch c := src[1]; {
	case c == '$':
		return rootContext, "", 2, nil
	case c == '.' || c == '[':
		return rootInput, "", 1, nil
	case isIdentStart(c):
		i := 2
		for i < len(src) && isIdentPart(src[i]) {
			i++
		}
		return rootVariable, src[1:i], i, nil
	default:
		return 0, "", 0, &SyntaxError{Src: src, Offset: 1, Msg: fmt.Sprintf("unexpected %q after '$'", c)}
	}
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

func isIdentPart(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

// errIndefinite is returned by parseDefinite when the path is well formed so
// far but uses an indefinite operator (left to ojg).
type errIndefinite struct{ offset int }

func (errIndefinite) Error() string { return "indefinite path" }

// parseDefinite reads the segments of src from offset i. It returns
// *SyntaxError for a malformed definite segment and errIndefinite when it
// meets a wildcard, deep scan, filter, slice or union.
func parseDefinite(src string, i int) ([]seg, error) {
	var segs []seg
	for i < len(src) {
		switch src[i] {
		case '.':
			i++
			if i >= len(src) {
				return nil, &SyntaxError{Src: src, Offset: i, Msg: "path ends with '.'"}
			}
			if src[i] == '.' || src[i] == '*' {
				return nil, errIndefinite{i}
			}
			if src[i] == '[' {
				return nil, &SyntaxError{Src: src, Offset: i, Msg: "'[' cannot follow '.'"}
			}
			start := i
			for i < len(src) && src[i] != '.' && src[i] != '[' {
				if c := src[i]; c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ']' || c == '\'' || c == '"' || c == '(' || c == ')' {
					return nil, &SyntaxError{Src: src, Offset: i, Msg: fmt.Sprintf("unexpected %q in a property name (use ['...'] for such names)", c)}
				}
				i++
			}
			segs = append(segs, seg{key: src[start:i]})
		case '[':
			i = skipBlanks(src, i+1)
			if i >= len(src) {
				return nil, &SyntaxError{Src: src, Offset: i, Msg: "unclosed '['"}
			}
			switch c := src[i]; {
			case c == '\'' || c == '"':
				key, j, err := readQuoted(src, i)
				if err != nil {
					return nil, err
				}
				j = skipBlanks(src, j)
				if j < len(src) && src[j] == ',' {
					return nil, errIndefinite{j}
				}
				if j >= len(src) || src[j] != ']' {
					return nil, &SyntaxError{Src: src, Offset: j, Msg: "expected ']' after a quoted name"}
				}
				segs = append(segs, seg{key: key})
				i = j + 1
			case c == '-' || (c >= '0' && c <= '9'):
				j := i
				if c == '-' {
					j++
				}
				for j < len(src) && src[j] >= '0' && src[j] <= '9' {
					j++
				}
				end := j
				j = skipBlanks(src, j)
				if j < len(src) && (src[j] == ':' || src[j] == ',') {
					return nil, errIndefinite{j}
				}
				if j >= len(src) || src[j] != ']' {
					return nil, &SyntaxError{Src: src, Offset: j, Msg: "expected a number and ']'"}
				}
				n, err := strconv.Atoi(src[i:end])
				if err != nil {
					return nil, &SyntaxError{Src: src, Offset: i, Msg: "bad array index " + strconv.Quote(src[i:end])}
				}
				segs = append(segs, seg{index: n, isIndex: true})
				i = j + 1
			case c == '*' || c == '?' || c == ':':
				return nil, errIndefinite{i}
			default:
				return nil, &SyntaxError{Src: src, Offset: i, Msg: fmt.Sprintf("unexpected %q after '['", c)}
			}
		default:
			return nil, &SyntaxError{Src: src, Offset: i, Msg: fmt.Sprintf("unexpected %q (expected '.' or '[')", src[i])}
		}
	}
	return segs, nil
}

// skipBlanks returns the offset of the first non-space byte at or after i.
func skipBlanks(src string, i int) int {
	for i < len(src) && src[i] == ' ' {
		i++
	}
	return i
}

// readQuoted reads a quoted name starting at src[i] (the quote) and returns
// it unescaped with the offset after the closing quote. \' \" and \\ are the
// escapes.
func readQuoted(src string, i int) (string, int, error) {
	q := src[i]
	var b strings.Builder
	j := i + 1
	for j < len(src) {
		c := src[j]
		switch {
		case c == '\\' && j+1 < len(src):
			b.WriteByte(src[j+1])
			j += 2
		case c == q:
			return b.String(), j + 1, nil
		default:
			b.WriteByte(c)
			j++
		}
	}
	return "", j, &SyntaxError{Src: src, Offset: i, Msg: "unterminated quoted name"}
}
