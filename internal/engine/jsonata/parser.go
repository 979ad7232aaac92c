package jsonata

import (
	"strconv"
)

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
		p.fail(&Error{Code: code, Position: p.node.pos, Token: tokStr(p.node.value), litToken: litToken(p.node.value), Value: id})
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
	p.fail(&Error{Code: "S0211", Position: t.pos, Token: tokStr(t.value), litToken: litToken(t.value)})
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
					p.fail(&Error{Code: "S0208", Position: arg.pos, Token: tokStr(arg.value), litToken: litToken(arg.value), Value: float64(i + 1)})
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
			p.fail(&Error{Code: "S0212", Position: left.pos, Token: tokStr(left.value), litToken: litToken(left.value)})
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
					p.fail(&Error{Code: "S0213", Position: step.pos, Value: step.value, Token: tokStr(step.value), litToken: litToken(step.value)})
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
			p.fail(&Error{Code: "S0201", Position: e.pos, Token: tokStr(e.value), litToken: litToken(e.value)})
		}
	default:
		code := "S0206"
		if e.id == "(end)" {
			code = "S0207"
		}
		p.fail(&Error{Code: code, Position: e.pos, Token: tokStr(e.value), litToken: litToken(e.value)})
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
		p.fail(&Error{Code: "S0201", Position: p.node.pos, Token: tokStr(p.node.value), litToken: litToken(p.node.value)})
	}
	e = p.process(e)
	if e.typ == "parent" || e.hasSeeking {
		p.fail(&Error{Code: "S0217", Position: e.pos, Token: e.typ})
	}
	markFrames(e)
	return e, nil
}
