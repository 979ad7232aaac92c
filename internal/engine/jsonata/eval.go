package jsonata

import (
	"math"
	"time"
)

type env struct {
	vars   map[string]any
	parent *env
	// root is the input bound as "$" (read by $$) in an evaluation's top
	// frame, kept out of vars so that the frame needs no map.
	root    any
	hasRoot bool
}

func newEnv(parent *env) *env { return &env{parent: parent} }

func (e *env) bind(name string, v any) {
	if e.vars == nil {
		e.vars = make(map[string]any, 4)
	}
	e.vars[name] = v
}

func (e *env) lookup(name string) any {
	for f := e; f != nil; f = f.parent {
		if f.hasRoot && name == "$" {
			return f.root
		}
		if v, ok := f.vars[name]; ok {
			return v
		}
	}
	return nil
}

// Lambda is a user-defined function value (closure).

type Lambda struct {
	params    []string
	body      *node
	env       *env
	input     any
	signature *signature
	thunk     bool
	native    *Builtin // partially applied native function
	nparams   []string // parameter names of the native function
}

// Builtin is a native function value.

type Builtin struct {
	name  string
	sig   *signature
	arity int
	fn    func(ev *evaluator, input any, e *env, args []any) (any, error)
	ext   func(args ...any) (any, error)
}

// Regex is a compiled regular expression value.

type Regex struct {
	lit *regexLit
}

func isFunction(v any) bool {
	switch v.(type) {
	case *Lambda, *Builtin, *Regex:
		return true
	}
	return false
}

func arity(f any) int {
	switch t := f.(type) {
	case *Lambda:
		return len(t.params)
	case *Builtin:
		return t.arity
	case *Regex:
		return 1
	}
	return 0
}

type evaluator struct {
	depth     int
	maxDepth  int
	deadline  time.Time
	hasLimit  bool
	ticks     int
	timestamp time.Time
}

func (ev *evaluator) enter() error {
	ev.depth++
	if ev.maxDepth > 0 && ev.depth > ev.maxDepth {
		return &Error{Code: "U1001", Position: -1, Message: "Stack overflow error: Check for non-terminating recursive function.  Consider rewriting as tail-recursive."}
	}
	return ev.checkTime()
}

func (ev *evaluator) checkTime() error {
	if ev.hasLimit {
		ev.ticks++
		if ev.ticks&255 == 0 && time.Now().After(ev.deadline) {
			return ev.timeoutErr()
		}
	}
	return nil
}

func (ev *evaluator) expired() bool { return ev.hasLimit && time.Now().After(ev.deadline) }

func (ev *evaluator) timeoutErr() error {
	return &Error{Code: "U1001", Position: -1, Message: "Expression evaluation timeout: Check for infinite loop"}
}

func withPos(err error, n *node) error {
	if e, ok := err.(*Error); ok && e.Position < 0 {
		e.Position = n.pos
	}
	return err
}

func (ev *evaluator) eval(n *node, input any, e *env) (any, error) {
	if err := ev.enter(); err != nil {
		return nil, err
	}
	var result any
	var err error
	switch n.typ {
	case "path":
		result, err = ev.evalPath(n, input, e)
	case "binary":
		result, err = ev.evalBinary(n, input, e)
	case "unary":
		result, err = ev.evalUnary(n, input, e)
	case "name":
		result = lookupKey(input, n.str())
	case "string", "number", "value":
		result = n.value
	case "wildcard":
		result = evalWildcard(input)
	case "descendant":
		result = evalDescendants(input)
	case "parent":
		result = e.lookup(n.slot.label)
	case "condition":
		var c any
		c, err = ev.eval(n.condition, input, e)
		if err == nil {
			if toBool(c) == true {
				result, err = ev.eval(n.then, input, e)
			} else if n.els != nil {
				result, err = ev.eval(n.els, input, e)
			}
		}
	case "block":
		frame := e
		if n.needsFrame {
			frame = newEnv(e)
		}
		for _, x := range n.expressions {
			result, err = ev.eval(x, input, frame)
			if err != nil {
				break
			}
		}
	case "bind":
		result, err = ev.eval(n.rhs, input, e)
		if err == nil {
			e.bind(n.lhs.str(), result)
		}
	case "regex":
		result = &Regex{lit: n.value.(*regexLit)}
	case "function":
		result, err = ev.evalFunction(n, input, e, nil, false)
	case "variable":
		if n.str() == "" {
			if a, ok := input.(*Array); ok && a.outerWrapper && len(a.items) > 0 {
				result = a.items[0]
			} else {
				result = input
			}
		} else {
			result = e.lookup(n.str())
		}
	case "lambda":
		result = &Lambda{params: n.params, body: n.body, env: e, input: input, signature: n.signature, thunk: n.thunk}
	case "partial":
		result, err = ev.evalPartial(n, input, e)
	case "apply":
		result, err = ev.evalApply(n, input, e)
	case "transform":
		result = ev.makeTransform(n, e)
	default:
		err = &Error{Code: "S0206", Position: n.pos, Token: n.typ}
	}
	if err != nil {
		ev.depth--
		return nil, withPos(err, n)
	}
	for _, p := range n.predicate {
		result, err = ev.evalFilter(p.expr, result, e)
		if err != nil {
			ev.depth--
			return nil, err
		}
	}
	if n.typ != "path" && n.group != nil {
		result, err = ev.evalGroup(n.group.pairs, n.group.pos, result, e)
		if err != nil {
			ev.depth--
			return nil, err
		}
	}
	ev.depth--
	if a, ok := result.(*Array); ok && a.seq && !a.tupleStream {
		if n.keepArray {
			a.keepSingleton = true
		}
		if len(a.items) == 0 {
			result = nil
		} else if len(a.items) == 1 && !a.keepSingleton {
			result = a.items[0]
		}
	}
	return result, nil
}

func lookupKey(input any, key string) any {
	switch t := input.(type) {
	case *Array:
		res := newSeq()
		for _, it := range t.items {
			v := lookupKey(it, key)
			if v == nil {
				continue
			}
			if a, ok := v.(*Array); ok {
				res.items = append(res.items, a.items...)
			} else {
				res.items = append(res.items, v)
			}
		}
		return res
	case *Object:
		return t.get(key)
	}
	return nil
}

func flattenInto(v any, out []any) []any {
	if a, ok := v.(*Array); ok {
		for _, x := range a.items {
			out = flattenInto(x, out)
		}
		return out
	}
	return append(out, v)
}

func evalWildcard(input any) any {
	res := newSeq()
	if a, ok := input.(*Array); ok && a.outerWrapper && len(a.items) > 0 {
		input = a.items[0]
	}
	add := func(v any) {
		if a, ok := v.(*Array); ok {
			res.items = flattenInto(a, res.items)
		} else {
			res.items = append(res.items, v)
		}
	}
	switch t := input.(type) {
	case *Object:
		for _, k := range t.Keys() {
			add(t.get(k))
		}
	case *Array:
		for _, v := range t.items {
			add(v)
		}
	}
	return res
}

func evalDescendants(input any) any {
	if input == nil {
		return nil
	}
	res := newSeq()
	var rec func(v any)
	rec = func(v any) {
		a, isArr := v.(*Array)
		if !isArr {
			res.items = append(res.items, v)
		}
		if isArr {
			for _, x := range a.items {
				rec(x)
			}
		} else if o, ok := v.(*Object); ok {
			for _, k := range o.Keys() {
				rec(o.get(k))
			}
		}
	}
	rec(input)
	if len(res.items) == 1 {
		return res.items[0]
	}
	return res
}

// toArray wraps an evaluation result as an array for path processing (nil when undefined).

// toBool implements $boolean; returns nil for undefined.

func toBool(v any) any {
	switch t := v.(type) {
	case nil:
		return nil
	case *Array:
		if len(t.items) == 1 {
			return toBool(t.items[0])
		}
		for _, x := range t.items {
			if toBool(x) == true {
				return true
			}
		}
		return false
	case string:
		return t != ""
	case float64:
		return t != 0
	case *Object:
		return len(t.keys) > 0
	case map[string]any:
		return len(t) > 0
	case bool:
		return t
	}
	return false
}

func boolize(v any) bool { return toBool(v) == true }

func (ev *evaluator) evalBinary(n *node, input any, e *env) (any, error) {
	op := n.str()
	lhs, err := ev.eval(n.lhs, input, e)
	if err != nil {
		return nil, err
	}
	if op == "and" || op == "or" {
		l := boolize(lhs)
		if op == "and" && !l {
			return false, nil
		}
		if op == "or" && l {
			return true, nil
		}
		r, err := ev.eval(n.rhs, input, e)
		if err != nil {
			return nil, err
		}
		return boolize(r), nil
	}
	rhs, err := ev.eval(n.rhs, input, e)
	if err != nil {
		return nil, err
	}
	var res any
	switch op {
	case "+", "-", "*", "/", "%":
		res, err = numericOp(lhs, rhs, op)
	case "=", "!=":
		if lhs == nil || rhs == nil {
			return false, nil
		}
		eq := deepEqual(lhs, rhs)
		if op == "=" {
			return eq, nil
		}
		return !eq, nil
	case "<", "<=", ">", ">=":
		res, err = compareOp(lhs, rhs, op)
	case "&":
		ls, rs := "", ""
		if lhs != nil {
			ls, err = toJSString(lhs, false)
			if err != nil {
				break
			}
		}
		if rhs != nil {
			rs, err = toJSString(rhs, false)
		}
		res = ls + rs
	case "..":
		res, err = ev.rangeOp(lhs, rhs)
	case "in":
		if lhs == nil || rhs == nil {
			return false, nil
		}
		items := []any{rhs}
		if a, ok := rhs.(*Array); ok {
			items = a.items
		}
		for _, x := range items {
			if strictEqual(x, lhs) {
				return true, nil
			}
		}
		return false, nil
	}
	if err != nil {
		if ee, ok := err.(*Error); ok {
			ee.Position = n.pos
			ee.Token = op
		}
		return nil, err
	}
	return res, nil
}

func strictEqual(a, b any) bool {
	switch x := a.(type) {
	case float64, string, bool, nullType:
		return a == b
	case *Array:
		y, ok := b.(*Array)
		return ok && x == y
	case *Object:
		y, ok := b.(*Object)
		return ok && x == y
	}
	return false
}

func isNumber(v any) (float64, bool) {
	f, ok := v.(float64)
	return f, ok && !math.IsNaN(f)
}

func numericOp(lhs, rhs any, op string) (any, error) {
	l, lok := isNumber(lhs)
	r, rok := isNumber(rhs)
	if lok && math.IsInf(l, 0) {
		return nil, errV("D1001", l)
	}
	if rok && math.IsInf(r, 0) {
		return nil, errV("D1001", r)
	}
	if lhs != nil && !lok {
		return nil, errV("T2001", lhs)
	}
	if rhs != nil && !rok {
		return nil, errV("T2002", rhs)
	}
	if lhs == nil || rhs == nil {
		return nil, nil
	}
	var res float64
	switch op {
	case "+":
		res = l + r
	case "-":
		res = l - r
	case "*":
		res = l * r
	case "/":
		res = l / r
	case "%":
		res = math.Mod(l, r)
	}
	return res, nil
}

func compareOp(lhs, rhs any, op string) (any, error) {
	comparable := func(v any) bool {
		switch v.(type) {
		case nil, string, float64:
			return true
		}
		return false
	}
	lc, rc := comparable(lhs), comparable(rhs)
	if !lc || !rc {
		bad := lhs
		if _, ok := lhs.(string); ok {
			bad = rhs
		} else if _, ok := lhs.(float64); ok {
			bad = rhs
		}
		return nil, errV("T2010", bad)
	}
	if lhs == nil || rhs == nil {
		return nil, nil
	}
	switch l := lhs.(type) {
	case float64:
		r, ok := rhs.(float64)
		if !ok {
			return nil, &Error{Code: "T2009", Value: lhs, Value2: rhs, Position: -1}
		}
		switch op {
		case "<":
			return l < r, nil
		case "<=":
			return l <= r, nil
		case ">":
			return l > r, nil
		default:
			return l >= r, nil
		}
	case string:
		r, ok := rhs.(string)
		if !ok {
			return nil, &Error{Code: "T2009", Value: lhs, Value2: rhs, Position: -1}
		}
		c := compareJSStrings(l, r)
		switch op {
		case "<":
			return c < 0, nil
		case "<=":
			return c <= 0, nil
		case ">":
			return c > 0, nil
		default:
			return c >= 0, nil
		}
	}
	return nil, nil
}

// compareJSStrings compares by UTF-16 code units as JavaScript does.

func compareJSStrings(a, b string) int {
	if a == b {
		return 0
	}
	ascii := true
	for i := 0; i < len(a); i++ {
		if a[i] >= 0x80 {
			ascii = false
			break
		}
	}
	for i := 0; ascii && i < len(b); i++ {
		if b[i] >= 0x80 {
			ascii = false
		}
	}
	if ascii {
		if a < b {
			return -1
		}
		return 1
	}
	ua, ub := toUTF16(a), toUTF16(b)
	for i := 0; i < len(ua) && i < len(ub); i++ {
		if ua[i] != ub[i] {
			if ua[i] < ub[i] {
				return -1
			}
			return 1
		}
	}
	if len(ua) < len(ub) {
		return -1
	}
	if len(ua) > len(ub) {
		return 1
	}
	return 0
}

func (ev *evaluator) rangeOp(lhs, rhs any) (any, error) {
	l, lok := lhs.(float64)
	r, rok := rhs.(float64)
	if lhs != nil && (!lok || l != math.Trunc(l)) {
		return nil, errV("T2003", lhs)
	}
	if rhs != nil && (!rok || r != math.Trunc(r)) {
		return nil, errV("T2004", rhs)
	}
	if lhs == nil || rhs == nil || l > r {
		return nil, nil
	}
	size := r - l + 1
	if size > 1e7 {
		return nil, errV("D2014", size)
	}
	items := make([]any, int(size))
	for i := range items {
		if i&0xFFFF == 0xFFFF && ev.expired() {
			return nil, ev.timeoutErr()
		}
		items[i] = l + float64(i)
	}
	return &Array{items: items, seq: true}, nil
}

func deepEqual(a, b any) bool {
	switch x := a.(type) {
	case float64, string, bool, nullType:
		return a == b
	case *Array:
		y, ok := b.(*Array)
		if !ok || len(x.items) != len(y.items) {
			return false
		}
		for i := range x.items {
			if !deepEqual(x.items[i], y.items[i]) {
				return false
			}
		}
		return true
	case *Object:
		y, ok := b.(*Object)
		if !ok || len(x.keys) != len(y.keys) {
			return false
		}
		for i, k := range x.keys {
			w, ok := y.Get(k)
			if !ok || !deepEqual(x.vals[i], w) {
				return false
			}
		}
		return true
	case nil:
		return b == nil
	}
	return a == b
}

func (ev *evaluator) evalUnary(n *node, input any, e *env) (any, error) {
	switch n.value {
	case "-":
		r, err := ev.eval(n.expression, input, e)
		if err != nil {
			return nil, err
		}
		if r == nil {
			return nil, nil
		}
		if f, ok := isNumber(r); ok {
			return -f, nil
		}
		return nil, &Error{Code: "D1002", Position: n.pos, Token: "-", Value: r}
	case "[":
		res := &Array{items: make([]any, 0, len(n.expressions))}
		for _, item := range n.expressions {
			v, err := ev.eval(item, input, e)
			if err != nil {
				return nil, err
			}
			if v == nil {
				continue
			}
			if item.value == "[" {
				res.items = append(res.items, v)
			} else if a, ok := v.(*Array); ok {
				res.items = append(res.items, a.items...)
			} else {
				res.items = append(res.items, v)
			}
		}
		if n.consarray {
			res.cons = true
		}
		return res, nil
	case "{":
		return ev.evalGroup(n.pairs, n.pos, input, e)
	}
	return nil, nil
}

func appendVals(a, b any) any {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	var items []any
	if x, ok := a.(*Array); ok {
		items = append(items, x.items...)
	} else {
		items = append(items, a)
	}
	if y, ok := b.(*Array); ok {
		items = append(items, y.items...)
	} else {
		items = append(items, b)
	}
	return &Array{items: items}
}
