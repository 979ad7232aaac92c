package intrinsics

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kstates/kstates/internal/engine/jsonpath"
)

// SyntaxError is a malformed intrinsic call: it names the problem and the
// offset (in bytes, from 0) where it was found.
type SyntaxError struct {
	Src    string
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid intrinsic function %q: %s at offset %d", e.Src, e.Msg, e.Offset)
}

type parser struct {
	src string
	i   int
}

// Parse parses an intrinsic call, with nested calls, string literals with
// escapes, numbers, booleans, null and path arguments. Errors are
// *SyntaxError.
func Parse(src string) (*Call, error) {
	p := &parser{src: src}
	p.space()
	c, err := p.call(1)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.src) {
		return nil, p.errf("unexpected %q after the call", p.src[p.i:])
	}
	c.src = src
	return c, nil
}

// MustParse is Parse that panics on error.
func MustParse(src string) *Call {
	c, err := Parse(src)
	if err != nil {
		panic(err)
	}
	return c
}

func (p *parser) errf(format string, a ...any) error {
	return &SyntaxError{Src: p.src, Offset: p.i, Msg: fmt.Sprintf(format, a...)}
}

func (p *parser) space() {
	for p.i < len(p.src) && (p.src[p.i] == ' ' || p.src[p.i] == '\t' || p.src[p.i] == '\n' || p.src[p.i] == '\r') {
		p.i++
	}
}

func (p *parser) call(depth int) (*Call, error) {
	start := p.i
	if depth > MaxNesting {
		return nil, p.errf("intrinsic functions nest more than %d deep", MaxNesting)
	}
	if !strings.HasPrefix(p.src[p.i:], "States.") {
		return nil, p.errf("expected an intrinsic function (States.Name(...))")
	}
	j := p.i + len("States.")
	for j < len(p.src) && isIdent(p.src[j]) {
		j++
	}
	name := p.src[p.i:j]
	fn := functions[name]
	if fn == nil {
		return nil, p.errf("unknown intrinsic function %s", name)
	}
	p.i = j
	p.space()
	if p.i >= len(p.src) || p.src[p.i] != '(' {
		return nil, p.errf("expected '(' after %s", name)
	}
	p.i++
	c := &Call{fn: fn}
	p.space()
	if p.i < len(p.src) && p.src[p.i] == ')' {
		p.i++
	} else {
		for {
			p.space()
			a, err := p.arg(depth)
			if err != nil {
				return nil, err
			}
			c.args = append(c.args, a)
			p.space()
			if p.i >= len(p.src) {
				return nil, p.errf("missing ')' to close %s", name)
			}
			if p.src[p.i] == ',' {
				p.i++
				continue
			}
			if p.src[p.i] == ')' {
				p.i++
				break
			}
			return nil, p.errf("expected ',' or ')' in the arguments of %s, found %q", name, p.src[p.i])
		}
	}
	c.src = p.src[start:p.i]
	if err := fn.checkStatic(c); err != nil {
		return nil, &SyntaxError{Src: p.src, Offset: start, Msg: err.Error()}
	}
	return c, nil
}

func isIdent(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func (p *parser) arg(depth int) (arg, error) {
	if p.i >= len(p.src) {
		return arg{}, p.errf("missing argument")
	}
	start := p.i
	c := p.src[p.i]
	switch {
	case c == '\'':
		return p.str()
	case c == '$':
		return p.path()
	case c == '-' || (c >= '0' && c <= '9'):
		j := p.i
		if c == '-' {
			j++
		}
		for j < len(p.src) && strings.IndexByte("0123456789.eE+-", p.src[j]) >= 0 {
			j++
		}
		text := p.src[p.i:j]
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			p.i = j
			return arg{lit: n, src: text}, nil
		}
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || strings.HasSuffix(text, ".") || strings.HasPrefix(strings.TrimPrefix(text, "-"), ".") {
			return arg{}, p.errf("invalid number %q", text)
		}
		p.i = j
		return arg{lit: f, src: text}, nil
	case strings.HasPrefix(p.src[p.i:], "States."):
		sub, err := p.call(depth + 1)
		if err != nil {
			return arg{}, err
		}
		return arg{call: sub, src: p.src[start:p.i]}, nil
	}
	for _, kw := range []struct {
		text string
		v    any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if strings.HasPrefix(p.src[p.i:], kw.text) && (p.i+len(kw.text) == len(p.src) || !isIdent(p.src[p.i+len(kw.text)])) {
			p.i += len(kw.text)
			return arg{lit: kw.v, src: kw.text}, nil
		}
	}
	return arg{}, p.errf("unexpected %q: an argument is a 'string', a number, true, false, null, a path or an intrinsic function", c)
}

// str reads a single-quoted literal.
func (p *parser) str() (arg, error) {
	start := p.i
	p.i++
	var val, piece strings.Builder
	var pieces []string
	var openEscape *Error
	for p.i < len(p.src) {
		c := p.src[p.i]
		switch {
		case c == '\\' && p.i+1 < len(p.src):
			n := p.src[p.i+1]
			switch n {
			case '\'', '{', '}', '\\':
				val.WriteByte(n)
				piece.WriteByte(n)
			default:
				// AWS fails at run time on an "open escape backslash"; the
				// literal keeps the failure for Eval to report.
				if openEscape == nil {
					openEscape = &Error{Message: fmt.Sprintf("invalid escape sequence \\%c in the string literal %s: only \\' \\{ \\} and \\\\ are allowed", n, "'...'")}
				}
				val.WriteByte(c)
				val.WriteByte(n)
				piece.WriteByte(c)
				piece.WriteByte(n)
			}
			p.i += 2
		case c == '\'':
			p.i++
			pieces = append(pieces, piece.String())
			a := arg{lit: val.String(), pieces: pieces, src: p.src[start:p.i]}
			if openEscape != nil {
				openEscape.Message = strings.Replace(openEscape.Message, "'...'", a.src, 1)
				a.err = openEscape
			}
			return a, nil
		case c == '{' && p.i+1 < len(p.src) && p.src[p.i+1] == '}':
			val.WriteString("{}")
			pieces = append(pieces, piece.String())
			piece.Reset()
			p.i += 2
		default:
			val.WriteByte(c)
			piece.WriteByte(c)
			p.i++
		}
	}
	p.i = start
	return arg{}, p.errf("unterminated string literal")
}

// path reads a path argument: up to a ',' or ')' (or space) outside
// brackets, parentheses and quotes.
func (p *parser) path() (arg, error) {
	start := p.i
	depth := 0
	var quote byte
	j := p.i
loop:
	for ; j < len(p.src); j++ {
		c := p.src[j]
		if quote != 0 {
			if c == '\\' {
				j++
			} else if c == quote {
				quote = 0
			}
			continue
		}
		switch c {
		case '\'', '"':
			quote = c
		case '[', '(':
			depth++
		case ']':
			depth--
		case ')':
			if depth == 0 {
				break loop
			}
			depth--
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				break loop
			}
		}
	}
	if j > len(p.src) { // a backslash ended the text inside a quote
		j = len(p.src)
	}
	text := p.src[start:j]
	path, err := jsonpath.Compile(text)
	if err != nil {
		return arg{}, &SyntaxError{Src: p.src, Offset: start, Msg: err.Error()}
	}
	p.i = j
	return arg{path: path, src: text}, nil
}
