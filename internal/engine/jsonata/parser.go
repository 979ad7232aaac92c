package jsonata

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

var operators = map[string]int{
	".": 75, "[": 80, "]": 0, "{": 70, "}": 0, "(": 80, ")": 0, ",": 0, "@": 80, "#": 80, ";": 80, ":": 80,
	"?": 20, "+": 50, "-": 50, "*": 60, "/": 60, "%": 60, "|": 20, "=": 40, "<": 40, ">": 40, "^": 40,
	"**": 60, "..": 20, ":=": 10, "!=": 40, "<=": 40, ">=": 40, "~>": 40, "and": 30, "or": 25, "in": 40,
	"&": 50, "!": 0, "~": 0,
}

// symbol binding powers as registered in the jsonata parser's symbol table
var symbolLbp = map[string]int{
	"(end)": 0, "(name)": 0, "(literal)": 0, "(regex)": 0, ":": 0, ";": 0, ",": 0, ")": 0, "]": 0, "}": 0, "..": 0,
	".": 75, "+": 50, "-": 50, "*": 60, "/": 60, "%": 60, "=": 40, "<": 40, ">": 40, "!=": 40, "<=": 40, ">=": 40,
	"&": 50, "and": 30, "or": 25, "in": 40, "~>": 40, "**": 0, "(": 80, "[": 80, "^": 40, "{": 70, ":=": 10,
	"@": 80, "#": 80, "?": 20, "|": 0,
}

var escapes = map[byte]string{'"': "\"", '\\': "\\", '/': "/", 'b': "\b", 'f': "\f", 'n': "\n", 'r': "\r", 't': "\t"}

type token struct {
	typ   string // operator, string, number, value, name, variable, regex
	value any
	pos   int
}

type lexer struct {
	path []rune
	pos  int
}

func isWS(c rune) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' }

func (l *lexer) at(i int) rune {
	if i < 0 || i >= len(l.path) {
		return 0
	}
	return l.path[i]
}

func (l *lexer) next(prefix bool) (*token, error) {
	n := len(l.path)
	if l.pos >= n {
		return nil, nil
	}
	c := l.at(l.pos)
	for l.pos < n && isWS(c) {
		l.pos++
		c = l.at(l.pos)
	}
	if c == '/' && l.at(l.pos+1) == '*' {
		start := l.pos
		l.pos += 2
		c = l.at(l.pos)
		for !(c == '*' && l.at(l.pos+1) == '/') {
			l.pos++
			c = l.at(l.pos)
			if l.pos >= n {
				return nil, newErr("S0106", start, "")
			}
		}
		l.pos += 2
		return l.next(prefix)
	}
	mk := func(typ string, v any) *token { return &token{typ: typ, value: v, pos: l.pos} }
	if !prefix && c == '/' {
		l.pos++
		re, err := l.scanRegex()
		if err != nil {
			return nil, err
		}
		return mk("regex", re), nil
	}
	two := func(a, b rune, op string) bool {
		if c == a && l.at(l.pos+1) == b {
			l.pos += 2
			return true
		}
		return false
	}
	for _, p := range [][3]string{{".", ".", ".."}, {":", "=", ":="}, {"!", "=", "!="}, {">", "=", ">="}, {"<", "=", "<="}, {"*", "*", "**"}, {"~", ">", "~>"}} {
		if two(rune(p[0][0]), rune(p[1][0]), p[2]) {
			return mk("operator", p[2]), nil
		}
	}
	if l.pos >= n {
		return nil, nil
	}
	if _, ok := operators[string(c)]; ok {
		l.pos++
		return mk("operator", string(c)), nil
	}
	if c == '"' || c == '\'' {
		q := c
		l.pos++
		var sb strings.Builder
		for l.pos < n {
			c = l.at(l.pos)
			if c == '\\' {
				l.pos++
				c = l.at(l.pos)
				if e, ok := escapes[byte(c)]; ok && c < 128 {
					sb.WriteString(e)
				} else if c == 'u' {
					if l.pos+5 <= n {
						oct := string(l.path[l.pos+1 : l.pos+5])
						if cp, err := strconv.ParseUint(oct, 16, 32); err == nil && !strings.ContainsAny(oct, "+-") {
							r := rune(cp)
							// combine surrogate pairs
							if utf16.IsSurrogate(r) && l.at(l.pos+5) == '\\' && l.at(l.pos+6) == 'u' && l.pos+11 <= n {
								if cp2, err := strconv.ParseUint(string(l.path[l.pos+7:l.pos+11]), 16, 32); err == nil {
									if d := utf16.DecodeRune(r, rune(cp2)); d != 0xFFFD {
										sb.WriteRune(d)
										l.pos += 10
										l.pos++
										continue
									}
								}
							}
							if utf16.IsSurrogate(r) {
								// lone surrogate: keep it as WTF-8 so that URL encoding can reject it
								sb.WriteByte(byte(0xE0 | (r >> 12)))
								sb.WriteByte(byte(0x80 | ((r >> 6) & 0x3F)))
								sb.WriteByte(byte(0x80 | (r & 0x3F)))
							} else {
								sb.WriteRune(r)
							}
							l.pos += 4
						} else {
							return nil, newErr("S0104", l.pos, "")
						}
					} else {
						return nil, newErr("S0104", l.pos, "")
					}
				} else {
					return nil, &Error{Code: "S0103", Position: l.pos, Token: string(c)}
				}
			} else if c == q {
				l.pos++
				return mk("string", sb.String()), nil
			} else {
				sb.WriteRune(c)
			}
			l.pos++
		}
		return nil, newErr("S0101", l.pos, "")
	}
	if m := l.scanNumber(); m != "" {
		f, err := strconv.ParseFloat(m, 64)
		if err == nil {
			l.pos += len(m)
			return mk("number", f), nil
		}
		return nil, &Error{Code: "S0102", Position: l.pos, Token: m}
	}
	if c == '`' {
		l.pos++
		end := -1
		for i := l.pos; i < n; i++ {
			if l.path[i] == '`' {
				end = i
				break
			}
		}
		if end != -1 {
			name := string(l.path[l.pos:end])
			l.pos = end + 1
			return mk("name", name), nil
		}
		l.pos = n
		return nil, newErr("S0105", l.pos, "")
	}
	i := l.pos
	for {
		ch := l.at(i)
		_, isOp := operators[string(ch)]
		if i >= n || isWS(ch) || isOp {
			if l.at(l.pos) == '$' {
				name := string(l.path[l.pos+1 : i])
				l.pos = i
				return mk("variable", name), nil
			}
			name := string(l.path[l.pos:i])
			l.pos = i
			switch name {
			case "or", "in", "and":
				return mk("operator", name), nil
			case "true":
				return mk("value", true), nil
			case "false":
				return mk("value", false), nil
			case "null":
				return mk("value", jnull), nil
			}
			if l.pos == n && name == "" {
				return nil, nil
			}
			return mk("name", name), nil
		}
		i++
	}
}

// scanNumber matches /^-?(0|([1-9][0-9]*))(\.[0-9]+)?([Ee][-+]?[0-9]+)?/ at the
// current position and returns the matched text ("" when there is no number).
func (l *lexer) scanNumber() string {
	i := l.pos
	digit := func(j int) bool { c := l.at(j); return c >= '0' && c <= '9' }
	if l.at(i) == '-' {
		i++
	}
	if l.at(i) == '0' {
		i++
	} else if digit(i) {
		for digit(i) {
			i++
		}
	} else {
		return ""
	}
	if l.at(i) == '.' && digit(i+1) {
		i++
		for digit(i) {
			i++
		}
	}
	if c := l.at(i); c == 'e' || c == 'E' {
		j := i + 1
		if l.at(j) == '+' || l.at(j) == '-' {
			j++
		}
		if digit(j) {
			for digit(j) {
				j++
			}
			i = j
		}
	}
	return string(l.path[l.pos:i])
}

func (l *lexer) scanRegex() (*regexLit, error) {
	start := l.pos
	depth := 0
	n := len(l.path)
	isClosing := func(p int) bool {
		if l.at(p) == '/' && depth == 0 {
			bs := 0
			for l.at(p-(bs+1)) == '\\' {
				bs++
			}
			return bs%2 == 0
		}
		return false
	}
	for l.pos < n {
		c := l.at(l.pos)
		if isClosing(l.pos) {
			pattern := string(l.path[start:l.pos])
			if pattern == "" {
				return nil, newErr("S0301", l.pos, "")
			}
			l.pos++
			fs := l.pos
			for l.at(l.pos) == 'i' || l.at(l.pos) == 'm' {
				l.pos++
			}
			flags := string(l.path[fs:l.pos])
			re, err := compileJSRegex(pattern, flags)
			if err != nil {
				return nil, &Error{Code: "S0303", Position: l.pos, Token: pattern, Message: "Invalid regular expression: " + err.Error()}
			}
			return &regexLit{re: re, src: pattern}, nil
		}
		if (c == '(' || c == '[' || c == '{') && l.at(l.pos-1) != '\\' {
			depth++
		}
		if (c == ')' || c == ']' || c == '}') && l.at(l.pos-1) != '\\' {
			depth--
		}
		l.pos++
	}
	return nil, newErr("S0302", l.pos, "")
}

type regexLit struct {
	re  *regexp.Regexp
	src string
}

// compileJSRegex translates a JavaScript regular expression to Go RE2 syntax where possible.
func compileJSRegex(pattern, flags string) (*regexp.Regexp, error) {
	p := translateJSRegex(pattern)
	pre := ""
	if strings.Contains(flags, "i") {
		pre += "i"
	}
	if strings.Contains(flags, "m") {
		pre += "m"
	}
	if pre != "" {
		p = "(?" + pre + ")" + p
	}
	return regexp.Compile(p)
}

// translateJSRegex rewrites the JavaScript-only escapes \uXXXX and \u{X...}
// into RE2's \x{...}, and identity escapes of characters RE2 does not accept
// escaped (such as "\ ") into the plain character; the rest of the syntax is
// shared by both engines.
func translateJSRegex(p string) string {
	if !strings.Contains(p, `\`) {
		return p
	}
	var sb strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '\\' && i+1 < len(p) {
			if p[i+1] == 'u' {
				if i+6 <= len(p) && isHex4(p[i+2:i+6]) {
					sb.WriteString(`\x{` + p[i+2:i+6] + `}`)
					i += 5
					continue
				}
				if i+2 < len(p) && p[i+2] == '{' {
					if end := strings.IndexByte(p[i:], '}'); end > 0 {
						sb.WriteString(`\x` + p[i+2:i+end+1])
						i += end
						continue
					}
				}
			}
			c := p[i+1]
			isPunct := c < 0x80 && !(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && c > ' ' && c != 0x7f
			isAlnum := (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
			if !isPunct && !isAlnum {
				// identity escape of a space, control or non-ASCII character
				r, size := utf8.DecodeRuneInString(p[i+1:])
				sb.WriteString(`\x{` + strconv.FormatInt(int64(r), 16) + `}`)
				i += size
				continue
			}
			sb.WriteByte(p[i])
			sb.WriteByte(p[i+1])
			i++
			continue
		}
		sb.WriteByte(p[i])
	}
	return sb.String()
}

func isHex4(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
			return false
		}
	}
	return len(s) == 4
}

// ---------------------------------------------------------------- AST

type slot struct {
	label string
	level int
	index int
}

type sortTerm struct {
	descending bool
	expr       *node
}

type groupSpec struct {
	pairs [][2]*node
	pos   int
}

type node struct {
	id    string // parser symbol id
	typ   string
	value any
	pos   int

	lhs, rhs      *node
	expression    *node
	expressions   []*node
	steps         []*node
	pairs         [][2]*node // object constructor pairs
	group         *groupSpec
	predicate     []*node
	stages        []*node
	terms         []sortTerm
	procedure     *node
	arguments     []*node
	params        []string
	signature     *signature
	body          *node
	thunk         bool
	condition     *node
	then, els     *node
	pattern       *node
	update, del   *node
	keepArray     bool
	keepSingleton bool
	consarray     bool
	tuple         bool
	focus         string
	index         string
	ancestor      *slot
	slot          *slot
	seeking       []*slot
	hasSeeking    bool
	expr          *node // filter stage expression
	nextFunction  string
	errNode       bool
	needsFrame    bool // block: binds variables (or may, through $eval) in its own frame
}

// children returns the sub-expressions of n evaluated in n's scope (lambda
// bodies and nested blocks have their own frames and are still returned; the
// caller decides whether to descend).
func (n *node) children() []*node {
	var c []*node
	add := func(xs ...*node) {
		for _, x := range xs {
			if x != nil {
				c = append(c, x)
			}
		}
	}
	add(n.lhs, n.rhs, n.expression, n.procedure, n.condition, n.then, n.els, n.pattern, n.update, n.del, n.expr, n.body)
	add(n.expressions...)
	add(n.steps...)
	add(n.arguments...)
	add(n.predicate...)
	add(n.stages...)
	for _, p := range n.pairs {
		add(p[0], p[1])
	}
	if n.group != nil {
		for _, p := range n.group.pairs {
			add(p[0], p[1])
		}
	}
	for _, t := range n.terms {
		add(t.expr)
	}
	return c
}

// markFrames sets needsFrame on every block whose own scope contains a
// variable binding or a reference to $eval (which can bind in the caller's
// scope). Blocks without it share their parent's frame, saving an allocation
// per evaluation.
func markFrames(n *node) {
	if n.typ == "block" {
		n.needsFrame = scopeBinds(n)
	}
	for _, c := range n.children() {
		markFrames(c)
	}
}

func scopeBinds(n *node) bool {
	for _, c := range n.children() {
		switch {
		case c.typ == "bind":
			return true
		case c.typ == "variable" && c.value == "eval":
			return true
		case c.typ == "block" || c.typ == "lambda":
			continue
		}
		if scopeBinds(c) {
			return true
		}
	}
	return false
}

func (n *node) str() string {
	if s, ok := n.value.(string); ok {
		return s
	}
	return ""
}

type parser struct {
	depth    int
	src      string
	lx       *lexer
	node     *node
	ancLabel int
	ancIndex int
	ancestry []*node
}

type parseErr struct{ e *Error }

func (p *parser) fail(e *Error) { panic(parseErr{e}) }

func (p *parser) advance(id string, infix bool) *node {
	if id != "" && p.node.id != id {
		code := "S0202"
		if p.node.id == "(end)" {
			code = "S0203"
		}
		p.fail(&Error{Code: code, Position: p.node.pos, Token: tokStr(p.node.value), Value: id})
	}
	t, err := p.lx.next(infix)
	if err != nil {
		p.fail(err.(*Error))
	}
	if t == nil {
		p.node = &node{id: "(end)", pos: len(p.lx.path), value: "(end)"}
		return p.node
	}
	var id2 string
	switch t.typ {
	case "name", "variable":
		id2 = "(name)"
	case "operator":
		id2 = t.value.(string)
		if _, ok := symbolLbp[id2]; !ok {
			p.fail(&Error{Code: "S0204", Position: t.pos, Token: id2})
		}
	case "string", "number", "value":
		id2 = "(literal)"
	case "regex":
		id2 = "(regex)"
	}
	p.node = &node{id: id2, typ: t.typ, value: t.value, pos: t.pos}
	return p.node
}

func tokStr(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(t)
	case nil:
		return ""
	case nullType:
		return "null"
	}
	return ""
}

// maxParseDepth bounds the nesting of sub-expressions accepted by the parser.
const maxParseDepth = 1000

func (p *parser) expression(rbp int) *node {
	// no defer here: a syntax error unwinds by panicking, and panics through
	// many frames with deferred calls are quadratic
	p.depth++
	if p.depth > maxParseDepth {
		p.fail(&Error{Code: "U1001", Position: p.node.pos, Message: "Expression is nested too deeply"})
	}
	t := p.node
	p.advance("", true)
	left := p.nud(t)
	for rbp < symbolLbp[p.node.id] {
		t = p.node
		p.advance("", false)
		left = p.led(t, left)
	}
	p.depth--
	return left
}

func (p *parser) nud(t *node) *node {
	switch t.id {
	case "(end)", "(name)", "(literal)", "(regex)", "and", "or", "in":
		return t
	case "-":
		t.expression = p.expression(70)
		t.typ = "unary"
		return t
	case "*":
		t.typ = "wildcard"
		return t
	case "**":
		t.typ = "descendant"
		return t
	case "%":
		t.typ = "parent"
		return t
	case "(":
		var exprs []*node
		for p.node.id != ")" {
			exprs = append(exprs, p.expression(0))
			if p.node.id != ";" {
				break
			}
			p.advance(";", false)
		}
		p.advance(")", true)
		t.typ = "block"
		t.expressions = exprs
		return t
	case "[":
		var a []*node
		if p.node.id != "]" {
			for {
				item := p.expression(0)
				if p.node.id == ".." {
					r := &node{typ: "binary", value: "..", pos: p.node.pos, lhs: item}
					p.advance("..", false)
					r.rhs = p.expression(0)
					item = r
				}
				a = append(a, item)
				if p.node.id != "," {
					break
				}
				p.advance(",", false)
			}
		}
		p.advance("]", true)
		t.expressions = a
		t.typ = "unary"
		return t
	case "{":
		return p.objectParser(t, nil)
	case "|":
		t.typ = "transform"
		t.pattern = p.expression(0)
		p.advance("|", false)
		t.update = p.expression(0)
		if p.node.id == "," {
			p.advance(",", false)
			t.del = p.expression(0)
		}
		p.advance("|", false)
		return t
	}
	p.fail(&Error{Code: "S0211", Position: t.pos, Token: tokStr(t.value)})
	return nil
}

func (p *parser) objectParser(t, left *node) *node {
	var a [][2]*node
	if p.node.id != "}" {
		for {
			n := p.expression(0)
			p.advance(":", false)
			v := p.expression(0)
			a = append(a, [2]*node{n, v})
			if p.node.id != "," {
				break
			}
			p.advance(",", false)
		}
	}
	p.advance("}", true)
	if left == nil {
		t.pairs = a
		t.typ = "unary"
	} else {
		t.lhs = left
		t.pairs = a
		t.typ = "binary"
	}
	return t
}

func (p *parser) led(t, left *node) *node {
	switch t.id {
	case "(":
		t.procedure = left
		t.typ = "function"
		if p.node.id != ")" {
			for {
				if p.node.typ == "operator" && p.node.id == "?" {
					t.typ = "partial"
					t.arguments = append(t.arguments, p.node)
					p.advance("?", false)
				} else {
					t.arguments = append(t.arguments, p.expression(0))
				}
				if p.node.id != "," {
					break
				}
				p.advance(",", false)
			}
		}
		p.advance(")", true)
		if left.typ == "name" && (left.value == "function" || left.value == "λ") {
			for i, arg := range t.arguments {
				if arg.typ != "variable" {
					p.fail(&Error{Code: "S0208", Position: arg.pos, Token: tokStr(arg.value), Value: float64(i + 1)})
				}
				t.params = append(t.params, arg.str())
			}
			t.typ = "lambda"
			if p.node.id == "<" {
				sigPos := p.node.pos
				depth := 1
				sig := "<"
				for depth > 0 && p.node.id != "{" && p.node.id != "(end)" {
					tok := p.advance("", false)
					if tok.id == ">" {
						depth--
					} else if tok.id == "<" {
						depth++
					}
					sig += tokStr(tok.value)
				}
				p.advance(">", false)
				s, err := parseSignature(sig)
				if err != nil {
					err.Position = sigPos + err.Index
					p.fail(err)
				}
				t.signature = s
			}
			p.advance("{", false)
			t.body = p.expression(0)
			p.advance("}", false)
		}
		return t
	case "[":
		if p.node.id == "]" {
			step := left
			for step != nil && step.typ == "binary" && step.value == "[" {
				step = step.lhs
			}
			step.keepArray = true
			p.advance("]", false)
			return left
		}
		t.lhs = left
		t.rhs = p.expression(operators["]"])
		t.typ = "binary"
		p.advance("]", true)
		return t
	case "^":
		p.advance("(", false)
		var terms []sortTerm
		for {
			term := sortTerm{}
			if p.node.id == "<" {
				p.advance("<", false)
			} else if p.node.id == ">" {
				term.descending = true
				p.advance(">", false)
			}
			term.expr = p.expression(0)
			terms = append(terms, term)
			if p.node.id != "," {
				break
			}
			p.advance(",", false)
		}
		p.advance(")", false)
		t.lhs = left
		t.terms = terms
		t.typ = "binary"
		return t
	case "{":
		return p.objectParser(t, left)
	case ":=":
		if left.typ != "variable" {
			p.fail(&Error{Code: "S0212", Position: left.pos, Token: tokStr(left.value)})
		}
		t.lhs = left
		t.rhs = p.expression(operators[":="] - 1)
		t.typ = "binary"
		return t
	case "@", "#":
		t.lhs = left
		t.rhs = p.expression(operators[t.id])
		if t.rhs.typ != "variable" {
			p.fail(&Error{Code: "S0214", Position: t.rhs.pos, Token: t.id})
		}
		t.typ = "binary"
		return t
	case "?":
		t.typ = "condition"
		t.condition = left
		t.then = p.expression(0)
		if p.node.id == ":" {
			p.advance(":", false)
			t.els = p.expression(0)
		}
		return t
	}
	// generic infix
	t.lhs = left
	t.rhs = p.expression(symbolLbp[t.id])
	t.typ = "binary"
	return t
}

func tailCallOptimize(e *node) *node {
	switch {
	case e.typ == "function" && e.predicate == nil:
		return &node{typ: "lambda", thunk: true, pos: e.pos, body: e}
	case e.typ == "condition":
		e.then = tailCallOptimize(e.then)
		if e.els != nil {
			e.els = tailCallOptimize(e.els)
		}
	case e.typ == "block":
		if n := len(e.expressions); n > 0 {
			e.expressions[n-1] = tailCallOptimize(e.expressions[n-1])
		}
	}
	return e
}

func (p *parser) seekParent(n *node, s *slot) *slot {
	switch n.typ {
	case "name", "wildcard":
		s.level--
		if s.level == 0 {
			if n.ancestor == nil {
				n.ancestor = s
			} else {
				p.ancestry[s.index].slot.label = n.ancestor.label
				n.ancestor = s
			}
			n.tuple = true
		}
	case "parent":
		s.level++
	case "block":
		if len(n.expressions) > 0 {
			n.tuple = true
			s = p.seekParent(n.expressions[len(n.expressions)-1], s)
		}
	case "path":
		n.tuple = true
		i := len(n.steps) - 1
		s = p.seekParent(n.steps[i], s)
		i--
		for s.level > 0 && i >= 0 {
			s = p.seekParent(n.steps[i], s)
			i--
		}
	default:
		p.fail(&Error{Code: "S0217", Position: n.pos, Token: n.typ})
	}
	return s
}

func (p *parser) pushAncestry(result, value *node) {
	if value.hasSeeking || value.typ == "parent" {
		slots := value.seeking
		if value.typ == "parent" {
			slots = append(slots, value.slot)
		}
		result.seeking = append(result.seeking, slots...)
		result.hasSeeking = true
	}
}

func (p *parser) resolveAncestry(path *node) {
	last := path.steps[len(path.steps)-1]
	slots := last.seeking
	if last.typ == "parent" {
		slots = append(slots, last.slot)
	}
	for _, s := range slots {
		index := len(path.steps) - 2
		for s.level > 0 {
			if index < 0 {
				path.seeking = append(path.seeking, s)
				path.hasSeeking = true
				break
			}
			step := path.steps[index]
			index--
			for index >= 0 && step.focus != "" && path.steps[index].focus != "" {
				step = path.steps[index]
				index--
			}
			s = p.seekParent(step, s)
		}
	}
}

func (p *parser) process(e *node) *node {
	var result *node
	switch e.typ {
	case "binary":
		switch e.value {
		case ".":
			lstep := p.process(e.lhs)
			if lstep.typ == "path" {
				result = lstep
			} else {
				result = &node{typ: "path", steps: []*node{lstep}}
			}
			if lstep.typ == "parent" {
				result.seeking = []*slot{lstep.slot}
				result.hasSeeking = true
			}
			rest := p.process(e.rhs)
			if rest.typ == "function" && rest.procedure.typ == "path" && len(rest.procedure.steps) == 1 &&
				rest.procedure.steps[0].typ == "name" && result.steps[len(result.steps)-1].typ == "function" {
				result.steps[len(result.steps)-1].nextFunction = rest.procedure.steps[0].str()
			}
			if rest.typ == "path" {
				result.steps = append(result.steps, rest.steps...)
			} else {
				if rest.predicate != nil {
					rest.stages = rest.predicate
					rest.predicate = nil
				}
				result.steps = append(result.steps, rest)
			}
			for _, step := range result.steps {
				if step.typ == "number" || step.typ == "value" {
					p.fail(&Error{Code: "S0213", Position: step.pos, Value: step.value, Token: tokStr(step.value)})
				}
				if step.typ == "string" {
					step.typ = "name"
				}
			}
			for _, step := range result.steps {
				if step.keepArray {
					result.keepSingleton = true
				}
			}
			first := result.steps[0]
			if first.typ == "unary" && first.value == "[" {
				first.consarray = true
			}
			last := result.steps[len(result.steps)-1]
			if last.typ == "unary" && last.value == "[" {
				last.consarray = true
			}
			p.resolveAncestry(result)
		case "[":
			result = p.process(e.lhs)
			step := result
			isStages := false
			if result.typ == "path" {
				step = result.steps[len(result.steps)-1]
				isStages = true
			}
			if step.group != nil {
				p.fail(&Error{Code: "S0209", Position: e.pos})
			}
			pred := p.process(e.rhs)
			if pred.hasSeeking {
				for _, s := range pred.seeking {
					if s.level == 1 {
						p.seekParent(step, s)
					} else {
						s.level--
					}
				}
				p.pushAncestry(step, pred)
			}
			f := &node{typ: "filter", expr: pred, pos: e.pos}
			if isStages {
				step.stages = append(step.stages, f)
			} else {
				step.predicate = append(step.predicate, f)
			}
		case "{":
			result = p.process(e.lhs)
			if result.group != nil {
				p.fail(&Error{Code: "S0210", Position: e.pos})
			}
			g := &groupSpec{pos: e.pos}
			for _, pr := range e.pairs {
				g.pairs = append(g.pairs, [2]*node{p.process(pr[0]), p.process(pr[1])})
			}
			result.group = g
		case "^":
			result = p.process(e.lhs)
			if result.typ != "path" {
				result = &node{typ: "path", steps: []*node{result}}
			}
			ss := &node{typ: "sort", pos: e.pos}
			for _, t := range e.terms {
				ex := p.process(t.expr)
				p.pushAncestry(ss, ex)
				ss.terms = append(ss.terms, sortTerm{descending: t.descending, expr: ex})
			}
			result.steps = append(result.steps, ss)
			p.resolveAncestry(result)
		case ":=":
			result = &node{typ: "bind", value: e.value, pos: e.pos}
			result.lhs = p.process(e.lhs)
			result.rhs = p.process(e.rhs)
			p.pushAncestry(result, result.rhs)
		case "@":
			result = p.process(e.lhs)
			step := result
			if result.typ == "path" {
				step = result.steps[len(result.steps)-1]
			}
			if step.stages != nil || step.predicate != nil {
				p.fail(&Error{Code: "S0215", Position: e.pos})
			}
			if step.typ == "sort" {
				p.fail(&Error{Code: "S0216", Position: e.pos})
			}
			if e.keepArray {
				step.keepArray = true
			}
			step.focus = e.rhs.str()
			step.tuple = true
		case "#":
			result = p.process(e.lhs)
			step := result
			if result.typ == "path" {
				step = result.steps[len(result.steps)-1]
			} else {
				result = &node{typ: "path", steps: []*node{result}}
				if step.predicate != nil {
					step.stages = step.predicate
					step.predicate = nil
				}
			}
			if step.stages == nil {
				step.index = e.rhs.str()
			} else {
				step.stages = append(step.stages, &node{typ: "index", value: e.rhs.str(), pos: e.pos})
			}
			step.tuple = true
		case "~>":
			result = &node{typ: "apply", value: e.value, pos: e.pos}
			result.lhs = p.process(e.lhs)
			result.rhs = p.process(e.rhs)
			result.keepArray = result.lhs.keepArray || result.rhs.keepArray
		default:
			result = &node{typ: e.typ, value: e.value, pos: e.pos}
			result.lhs = p.process(e.lhs)
			result.rhs = p.process(e.rhs)
			p.pushAncestry(result, result.lhs)
			p.pushAncestry(result, result.rhs)
		}
	case "unary":
		result = &node{typ: e.typ, value: e.value, pos: e.pos}
		switch e.value {
		case "[":
			for _, item := range e.expressions {
				v := p.process(item)
				p.pushAncestry(result, v)
				result.expressions = append(result.expressions, v)
			}
		case "{":
			for _, pr := range e.pairs {
				k := p.process(pr[0])
				p.pushAncestry(result, k)
				v := p.process(pr[1])
				p.pushAncestry(result, v)
				result.pairs = append(result.pairs, [2]*node{k, v})
			}
		default:
			result.expression = p.process(e.expression)
			if e.value == "-" && result.expression.typ == "number" {
				result = result.expression
				result.value = -result.value.(float64)
			} else {
				p.pushAncestry(result, result.expression)
			}
		}
	case "function", "partial":
		result = &node{typ: e.typ, value: e.value, pos: e.pos}
		for _, a := range e.arguments {
			av := p.process(a)
			p.pushAncestry(result, av)
			result.arguments = append(result.arguments, av)
		}
		result.procedure = p.process(e.procedure)
	case "lambda":
		result = &node{typ: e.typ, params: e.params, signature: e.signature, pos: e.pos}
		body := p.process(e.body)
		result.body = tailCallOptimize(body)
	case "condition":
		result = &node{typ: e.typ, pos: e.pos}
		result.condition = p.process(e.condition)
		p.pushAncestry(result, result.condition)
		result.then = p.process(e.then)
		p.pushAncestry(result, result.then)
		if e.els != nil {
			result.els = p.process(e.els)
			p.pushAncestry(result, result.els)
		}
	case "transform":
		result = &node{typ: e.typ, pos: e.pos}
		result.pattern = p.process(e.pattern)
		result.update = p.process(e.update)
		if e.del != nil {
			result.del = p.process(e.del)
		}
	case "block":
		result = &node{typ: e.typ, pos: e.pos}
		for _, item := range e.expressions {
			part := p.process(item)
			p.pushAncestry(result, part)
			if part.consarray || (part.typ == "path" && part.steps[0].consarray) {
				result.consarray = true
			}
			result.expressions = append(result.expressions, part)
		}
	case "name":
		result = &node{typ: "path", steps: []*node{e}}
		if e.keepArray {
			result.keepSingleton = true
		}
	case "parent":
		result = &node{typ: "parent", pos: e.pos, slot: &slot{label: "!" + strconv.Itoa(p.ancLabel), level: 1, index: p.ancIndex}}
		p.ancLabel++
		p.ancIndex++
		p.ancestry = append(p.ancestry, result)
	case "string", "number", "value", "wildcard", "descendant", "variable", "regex":
		result = e
	case "operator":
		if e.value == "and" || e.value == "or" || e.value == "in" {
			e.typ = "name"
			result = p.process(e)
		} else if e.value == "?" {
			result = e
		} else {
			p.fail(&Error{Code: "S0201", Position: e.pos, Token: tokStr(e.value)})
		}
	default:
		code := "S0206"
		if e.id == "(end)" {
			code = "S0207"
		}
		p.fail(&Error{Code: code, Position: e.pos, Token: tokStr(e.value)})
	}
	if e.keepArray {
		result.keepArray = true
	}
	return result
}

func parse(src string) (ast *node, err error) {
	p := &parser{src: src, lx: &lexer{path: []rune(src)}}
	defer func() {
		if r := recover(); r != nil {
			if pe, ok := r.(parseErr); ok {
				ast = nil
				err = pe.e
				return
			}
			panic(r)
		}
	}()
	p.node = &node{id: "(start)"}
	p.advance("", false)
	e := p.expression(0)
	if p.node.id != "(end)" {
		p.fail(&Error{Code: "S0201", Position: p.node.pos, Token: tokStr(p.node.value)})
	}
	e = p.process(e)
	if e.typ == "parent" || e.hasSeeking {
		p.fail(&Error{Code: "S0217", Position: e.pos, Token: e.typ})
	}
	markFrames(e)
	return e, nil
}
