package jsonpath

import (
	"fmt"
	"strings"

	"github.com/ohler55/ojg/jp"

	"github.com/kstates/kstates/internal/engine/value"
)

// Path is a compiled ASL path: a JSONPath query over the input ("$..."), the
// context object ("$$...") or a variable ("$name...").
type Path struct {
	src      string
	root     root
	varName  string
	segs     []seg   // definite paths
	expr     jp.Expr // indefinite paths: "$" + the segments, for ojg
	definite bool
	ordered  bool // expr has a wildcard or deep scan: see ordered.go
}

// Compile parses an ASL path (InputPath, OutputPath, ItemsPath, a ".$" value,
// a Choice Variable, ...). The error is a *SyntaxError naming the offending
// part and its offset.
func Compile(src string) (p *Path, err error) {
	r, name, i, err := splitRoot(src)
	if err != nil {
		return nil, err
	}
	p = &Path{src: src, root: r, varName: name}
	segs, err := parseDefinite(src, i)
	if err == nil {
		p.segs, p.definite = segs, true
		return p, nil
	}
	if _, ok := err.(errIndefinite); !ok {
		return nil, err
	}
	p.expr, err = parseOJG(src, i)
	if err != nil {
		return nil, err
	}
	p.ordered = stepwise(p.expr)
	return p, nil
}

// parseOJG compiles the segments src[i:] with ojg, guarding against panics.
func parseOJG(src string, i int) (x jp.Expr, err error) {
	defer func() {
		if r := recover(); r != nil {
			x, err = nil, &SyntaxError{Src: src, Offset: i, Msg: fmt.Sprint("cannot parse: ", r)}
		}
	}()
	rest := src[i:]
	if strings.ContainsAny(rest, "\x00") {
		return nil, &SyntaxError{Src: src, Offset: i + strings.IndexByte(rest, 0), Msg: "NUL character"}
	}
	x, err = jp.ParseString("$" + rest)
	if err != nil {
		return nil, &SyntaxError{Src: src, Offset: i, Msg: err.Error()}
	}
	if len(x) == 0 {
		return nil, &SyntaxError{Src: src, Offset: i, Msg: "empty expression"}
	}
	if _, ok := x[0].(jp.Root); !ok {
		return nil, &SyntaxError{Src: src, Offset: i, Msg: "expression does not start at the root"}
	}
	return x, nil
}

// MustCompile is Compile that panics on error, for tests and constants.
func MustCompile(src string) *Path {
	p, err := Compile(src)
	if err != nil {
		panic(err)
	}
	return p
}

// String returns the source text.
func (p *Path) String() string { return p.src }

// IsDefinite reports whether the path selects at most one value (no
// wildcards, deep scan, filters, slices or unions).
func (p *Path) IsDefinite() bool { return p.definite }

// IsContext reports whether the path starts at the context object ("$$").
func (p *Path) IsContext() bool { return p.root == rootContext }

// Variable returns the variable name a "$name..." path starts from, or "".
func (p *Path) Variable() string { return p.varName }

// Normalized renders a definite path as Jayway does in its messages, for
// example $['a']['b'][0]. Indefinite paths return their source.
func (p *Path) Normalized() string {
	if !p.definite {
		return p.src
	}
	return normalized(p.rootText(), p.segs)
}

func (p *Path) rootText() string {
	switch p.root {
	case rootContext:
		return "$$"
	case rootVariable:
		return "$" + p.varName
	}
	return "$"
}

func normalized(root string, segs []seg) string {
	var b strings.Builder
	b.WriteString(root)
	for _, s := range segs {
		b.WriteString(s.String())
	}
	return b.String()
}

// Get evaluates the path. A definite path (no wildcards, filters, slices or
// unions) yields the single value it denotes; an indefinite one yields a
// []any of all matches (empty when nothing matches). A definite path that
// matches nothing returns an error satisfying errors.Is(err, ErrNoMatch).
func (p *Path) Get(s *Scope) (any, error) {
	var doc any
	switch p.root {
	case rootInput:
		doc = s.Input
	case rootContext:
		doc = s.Context
	case rootVariable:
		var ok bool
		if s.Vars != nil {
			doc, ok = s.Vars.Lookup(p.varName)
		}
		if !ok {
			return nil, &UndefinedVariableError{Name: p.varName, Path: p.src}
		}
	}
	if p.definite {
		return p.walk(doc)
	}
	var res []any
	if p.ordered {
		res = getOrdered(p.expr, doc)
	} else {
		res = p.expr.Get(doc)
	}
	if res == nil {
		res = []any{}
	}
	return res, nil
}

// walk follows a definite path.
func (p *Path) walk(v any) (any, error) {
	for i, sg := range p.segs {
		if !sg.isIndex {
			m, ok := v.(map[string]any)
			if !ok {
				return nil, p.noMatch(i, fmt.Sprintf("Expected to find an object with property %s in path %s but found '%s'", sg, normalized(p.rootText(), p.segs[:i]), javaType(v)))
			}
			x, ok := m[sg.key]
			if !ok {
				if i == len(p.segs)-1 {
					return nil, p.noMatch(i, "No results for path: "+p.Normalized())
				}
				return nil, p.noMatch(i, "Missing property in path "+normalized(p.rootText(), p.segs[:i+1]))
			}
			v = x
			continue
		}
		a, ok := v.([]any)
		if !ok {
			return nil, p.noMatch(i, fmt.Sprintf("Filter: %s can only be applied to arrays. Current context is: %s", sg, shortJSON(v)))
		}
		n := sg.index
		if n < 0 {
			n += len(a)
		}
		if n < 0 || n >= len(a) {
			return nil, p.noMatch(i, "No results for path: "+p.Normalized())
		}
		v = a[n]
	}
	return v, nil
}

func (p *Path) noMatch(at int, detail string) error {
	return &NoMatchError{Path: p.src, At: normalized(p.rootText(), p.segs[:at+1]), Detail: detail}
}

// javaType names a value's type the way Jayway's messages do (roughly).
func javaType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "java.lang.Boolean"
	case string:
		return "java.lang.String"
	case []any:
		return "net.minidev.json.JSONArray"
	case map[string]any:
		return "java.util.LinkedHashMap"
	}
	return "java.lang.Number"
}

// shortJSON renders v for a message, cut to 200 bytes.
func shortJSON(v any) string {
	s := value.MarshalString(v)
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
