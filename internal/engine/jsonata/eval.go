package jsonata

import (
	"math"
	"sort"
	"strconv"
	"time"
)

type env struct {
	vars   map[string]any
	parent *env
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

func (ev *evaluator) evalPath(n *node, input any, e *env) (any, error) {
	if len(n.steps) == 1 && n.group == nil && !n.keepSingleton && !n.tuple {
		// fast path: a single field name applied to a non-array value
		st := n.steps[0]
		if st.typ == "name" && st.stages == nil && st.predicate == nil && st.group == nil && !st.tuple && !st.keepArray && !st.consarray {
			if _, isArr := input.(*Array); !isArr {
				if ev.maxDepth > 0 && ev.depth+1 > ev.maxDepth {
					return nil, ev.enter()
				}
				if err := ev.checkTime(); err != nil {
					return nil, err
				}
				if o, ok := input.(*Object); ok {
					return o.get(st.str()), nil
				}
				return nil, nil
			}
		}
	}
	var inputSeq *Array
	if a, ok := input.(*Array); ok && n.steps[0].typ != "variable" {
		inputSeq = a
	} else {
		inputSeq = newSeq(input)
	}
	var resultSeq *Array
	isTuple := false
	var tuples *Array
	var err error
	for i, step := range n.steps {
		if step.tuple {
			isTuple = true
		}
		if i == 0 && step.consarray {
			var r any
			r, err = ev.eval(step, inputSeq, e)
			if err != nil {
				return nil, err
			}
			resultSeq = toArray(r)
		} else if isTuple {
			tuples, err = ev.evalTupleStep(step, inputSeq, tuples, e)
		} else {
			resultSeq, err = ev.evalStep(step, inputSeq, e, i == len(n.steps)-1)
		}
		if err != nil {
			return nil, err
		}
		if !isTuple && (resultSeq == nil || len(resultSeq.items) == 0) {
			break
		}
		if step.focus == "" {
			inputSeq = resultSeq
		}
	}
	var result any
	if isTuple {
		if n.tuple {
			result = tuples
		} else {
			rs := newSeq()
			if tuples != nil {
				rs.items = make([]any, 0, len(tuples.items))
				for _, t := range tuples.items {
					rs.items = append(rs.items, t.(map[string]any)["@"])
				}
			}
			result = rs
		}
	} else if resultSeq != nil {
		result = resultSeq
	}
	if n.keepSingleton {
		if a, ok := result.(*Array); ok {
			if a.cons && !a.seq {
				a = newSeq(a)
			} else if !a.seq {
				// never mutate arrays that may belong to the (shared) input
				c := *a
				a = &c
			}
			a.keepSingleton = true
			result = a
		}
	}
	if n.group != nil {
		src := result
		if isTuple {
			src = tuples
		}
		return ev.evalGroup(n.group.pairs, n.group.pos, src, e)
	}
	return result, nil
}

// toArray wraps an evaluation result as an array for path processing (nil when undefined).
func toArray(v any) *Array {
	if v == nil {
		return nil
	}
	if a, ok := v.(*Array); ok {
		return a
	}
	return newSeq(v)
}

func frameFromTuple(e *env, t map[string]any) *env {
	f := &env{parent: e, vars: make(map[string]any, len(t))}
	for k, v := range t {
		f.vars[k] = v
	}
	return f
}

func (ev *evaluator) evalStep(step *node, input *Array, e *env, last bool) (*Array, error) {
	if step.typ == "sort" {
		r, err := ev.evalSort(step, input, e)
		if err != nil {
			return nil, err
		}
		if step.stages != nil {
			return ev.evalStages(step.stages, r, e)
		}
		return r, nil
	}
	results := make([]any, 0, len(input.items))
	for _, it := range input.items {
		res, err := ev.eval(step, it, e)
		if err != nil {
			return nil, err
		}
		for _, st := range step.stages {
			res, err = ev.evalFilter(st.expr, res, e)
			if err != nil {
				return nil, err
			}
		}
		if res != nil {
			results = append(results, res)
		}
	}
	if last && len(results) == 1 {
		if a, ok := results[0].(*Array); ok && !a.seq {
			return a, nil
		}
	}
	out := newSeq()
	out.items = make([]any, 0, len(results))
	for _, r := range results {
		if a, ok := r.(*Array); ok && !a.cons {
			out.items = append(out.items, a.items...)
		} else {
			out.items = append(out.items, r)
		}
	}
	return out, nil
}

func (ev *evaluator) evalStages(stages []*node, input *Array, e *env) (*Array, error) {
	result := input
	for _, st := range stages {
		switch st.typ {
		case "filter":
			r, err := ev.evalFilter(st.expr, result, e)
			if err != nil {
				return nil, err
			}
			result = toArray(r)
			if result == nil {
				result = newSeq()
			}
		case "index":
			for i, t := range result.items {
				if tm, ok := t.(map[string]any); ok {
					tm[st.str()] = float64(i)
				}
			}
		}
	}
	return result, nil
}

func (ev *evaluator) evalTupleStep(step *node, input *Array, tuples *Array, e *env) (*Array, error) {
	if step.typ == "sort" {
		var result *Array
		if tuples != nil {
			r, err := ev.evalSort(step, tuples, e)
			if err != nil {
				return nil, err
			}
			result = r
		} else {
			sorted, err := ev.evalSort(step, input, e)
			if err != nil {
				return nil, err
			}
			result = newSeq()
			result.tupleStream = true
			for i, v := range sorted.items {
				t := map[string]any{"@": v}
				if step.index != "" {
					t[step.index] = float64(i)
				}
				result.items = append(result.items, t)
			}
		}
		if step.stages != nil {
			return ev.evalStages(step.stages, result, e)
		}
		return result, nil
	}
	result := newSeq()
	result.tupleStream = true
	if tuples == nil {
		tuples = newSeq()
		for _, it := range input.items {
			tuples.items = append(tuples.items, map[string]any{"@": it})
		}
	}
	for _, tv := range tuples.items {
		tb := tv.(map[string]any)
		stepEnv := frameFromTuple(e, tb)
		res, err := ev.eval(step, tb["@"], stepEnv)
		if err != nil {
			return nil, err
		}
		if res == nil {
			continue
		}
		ra, isArr := res.(*Array)
		if !isArr {
			ra = &Array{items: []any{res}}
		}
		for bb, item := range ra.items {
			t := make(map[string]any, len(tb)+2)
			for k, v := range tb {
				t[k] = v
			}
			if ra.tupleStream {
				for k, v := range item.(map[string]any) {
					t[k] = v
				}
			} else {
				if step.focus != "" {
					t[step.focus] = item
					t["@"] = tb["@"]
				} else {
					t["@"] = item
				}
				if step.index != "" {
					t[step.index] = float64(bb)
				}
				if step.ancestor != nil {
					t[step.ancestor.label] = tb["@"]
				}
			}
			result.items = append(result.items, t)
		}
	}
	if step.stages != nil {
		return ev.evalStages(step.stages, result, e)
	}
	return result, nil
}

func (ev *evaluator) evalFilter(pred *node, input any, e *env) (any, error) {
	results := newSeq()
	ia, ok := input.(*Array)
	if ok && ia.tupleStream {
		results.tupleStream = true
	}
	if !ok {
		ia = newSeq(input)
	}
	if pred.typ == "number" {
		idx := int(math.Floor(pred.value.(float64)))
		if idx < 0 {
			idx = len(ia.items) + idx
		}
		if idx >= 0 && idx < len(ia.items) {
			item := ia.items[idx]
			if item != nil {
				if a, ok := item.(*Array); ok {
					return a, nil
				}
				results.items = append(results.items, item)
			}
		}
		return results, nil
	}
	for i, item := range ia.items {
		ctx := item
		fe := e
		if ia.tupleStream {
			tm := item.(map[string]any)
			ctx = tm["@"]
			fe = frameFromTuple(e, tm)
		}
		res, err := ev.eval(pred, ctx, fe)
		if err != nil {
			return nil, err
		}
		if f, ok := res.(float64); ok {
			res = &Array{items: []any{f}}
		}
		if ra, ok := res.(*Array); ok && isArrayOfNumbers(ra) {
			for _, x := range ra.items {
				ii := int(math.Floor(x.(float64)))
				if ii < 0 {
					ii = len(ia.items) + ii
				}
				if ii == i {
					results.items = append(results.items, item)
				}
			}
		} else if toBool(res) == true {
			results.items = append(results.items, item)
		}
	}
	return results, nil
}

func isArrayOfNumbers(a *Array) bool {
	for _, x := range a.items {
		if _, ok := x.(float64); !ok {
			return false
		}
	}
	return true
}

func isArrayOfStrings(a *Array) bool {
	for _, x := range a.items {
		if _, ok := x.(string); !ok {
			return false
		}
	}
	return true
}

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

type groupEntry struct {
	data      any
	exprIndex int
}

func (ev *evaluator) evalGroup(pairs [][2]*node, pos int, input any, e *env) (any, error) {
	result := NewObject()
	groups := NewObject()
	ia, isArr := input.(*Array)
	reduce := isArr && ia.tupleStream
	if !isArr {
		ia = newSeq(input)
	}
	items := ia.items
	if len(items) == 0 {
		items = []any{nil}
	}
	for _, item := range items {
		fe := e
		ctx := item
		if tm, ok := item.(map[string]any); reduce && ok {
			fe = frameFromTuple(e, tm)
			ctx = tm["@"]
		}
		for pi, pr := range pairs {
			k, err := ev.eval(pr[0], ctx, fe)
			if err != nil {
				return nil, err
			}
			if k == nil {
				continue
			}
			ks, ok := k.(string)
			if !ok {
				return nil, &Error{Code: "T1003", Position: pos, Value: k}
			}
			if g, ok := groups.Get(ks); ok {
				ge := g.(*groupEntry)
				if ge.exprIndex != pi {
					return nil, &Error{Code: "D1009", Position: pos, Value: ks}
				}
				ge.data = appendVals(ge.data, item)
			} else {
				groups.Set(ks, &groupEntry{data: item, exprIndex: pi})
			}
		}
	}
	for _, k := range groups.Keys() {
		ge := groups.get(k).(*groupEntry)
		ctx := ge.data
		fe := e
		if reduce {
			t := reduceTuples(ge.data)
			ctx = t["@"]
			delete(t, "@")
			fe = frameFromTuple(e, t)
		}
		v, err := ev.eval(pairs[ge.exprIndex][1], ctx, fe)
		if err != nil {
			return nil, err
		}
		if v != nil {
			result.Set(k, v)
		}
	}
	return result, nil
}

func reduceTuples(v any) map[string]any {
	a, ok := v.(*Array)
	if !ok {
		tm := v.(map[string]any)
		r := make(map[string]any, len(tm))
		for k, x := range tm {
			r[k] = x
		}
		return r
	}
	r := map[string]any{}
	for k, x := range a.items[0].(map[string]any) {
		r[k] = x
	}
	for _, t := range a.items[1:] {
		for k, x := range t.(map[string]any) {
			r[k] = appendVals(r[k], x)
		}
	}
	return r
}

type sortKey struct {
	v   any
	idx int
}

func (ev *evaluator) evalSort(n *node, input *Array, e *env) (*Array, error) {
	isTuple := input.tupleStream
	m := len(input.items)
	nt := len(n.terms)
	flat := make([]any, m*nt)
	for i, item := range input.items {
		ctx := item
		fe := e
		if isTuple {
			tm := item.(map[string]any)
			ctx = tm["@"]
			fe = frameFromTuple(e, tm)
		}
		for j, t := range n.terms {
			v, err := ev.eval(t.expr, ctx, fe)
			if err != nil {
				return nil, err
			}
			switch v.(type) {
			case nil, string, float64:
			default:
				return nil, &Error{Code: "T2008", Position: n.pos, Value: v}
			}
			flat[i*nt+j] = v
		}
	}
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	var sortErr error
	cmp := func(a, b int) int {
		for j, t := range n.terms {
			aa, bb := flat[a*nt+j], flat[b*nt+j]
			c := 0
			if aa == nil {
				if bb == nil {
					c = 0
				} else {
					c = 1
				}
				if c != 0 {
					return c
				}
				continue
			}
			if bb == nil {
				return -1
			}
			switch x := aa.(type) {
			case float64:
				y, ok := bb.(float64)
				if !ok {
					if sortErr == nil {
						sortErr = &Error{Code: "T2007", Position: n.pos, Value: aa, Value2: bb}
					}
					return 0
				}
				if x < y {
					c = -1
				} else if x > y {
					c = 1
				}
			case string:
				y, ok := bb.(string)
				if !ok {
					if sortErr == nil {
						sortErr = &Error{Code: "T2007", Position: n.pos, Value: aa, Value2: bb}
					}
					return 0
				}
				c = compareJSStrings(x, y)
			}
			if t.descending {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	}
	sort.SliceStable(idx, func(i, j int) bool { return cmp(idx[i], idx[j]) < 0 })
	if sortErr != nil {
		return nil, sortErr
	}
	out := &Array{items: make([]any, m), seq: true, tupleStream: isTuple}
	for i, k := range idx {
		out.items[i] = input.items[k]
	}
	return out, nil
}

// ------------------------------------------------------------ functions

func (ev *evaluator) evalFunction(n *node, input any, e *env, applyTo any, hasApplyTo bool) (any, error) {
	proc, err := ev.eval(n.procedure, input, e)
	if err != nil {
		return nil, err
	}
	if proc == nil && n.procedure.typ == "path" && e.lookup(n.procedure.steps[0].str()) != nil {
		return nil, &Error{Code: "T1005", Position: n.pos, Token: n.procedure.steps[0].str()}
	}
	args := make([]any, 0, len(n.arguments)+1)
	if hasApplyTo {
		args = append(args, applyTo)
	}
	for _, a := range n.arguments {
		v, err := ev.eval(a, input, e)
		if err != nil {
			return nil, err
		}
		args = append(args, v)
	}
	procName := n.procedure.str()
	if n.procedure.typ == "path" {
		procName = n.procedure.steps[0].str()
	}
	res, err := ev.apply(proc, args, input, e)
	if err != nil {
		if ee, ok := err.(*Error); ok {
			if ee.Position < 0 {
				ee.Position = n.pos
			}
			if ee.Token == "" {
				ee.Token = procName
			}
		}
		return nil, err
	}
	return res, nil
}

func (ev *evaluator) apply(proc any, args []any, input any, e *env) (any, error) {
	res, err := ev.applyInner(proc, args, input, e)
	if err != nil {
		return nil, err
	}
	for {
		l, ok := res.(*Lambda)
		if !ok || !l.thunk {
			return res, nil
		}
		if err := ev.checkTime(); err != nil {
			return nil, err
		}
		next, err := ev.eval(l.body.procedure, l.input, l.env)
		if err != nil {
			return nil, err
		}
		if next == nil && l.body.procedure.typ == "path" && l.env.lookup(l.body.procedure.steps[0].str()) != nil {
			return nil, &Error{Code: "T1005", Position: l.body.pos, Token: l.body.procedure.steps[0].str()}
		}
		args := make([]any, 0, len(l.body.arguments))
		for _, a := range l.body.arguments {
			v, err := ev.eval(a, l.input, l.env)
			if err != nil {
				return nil, err
			}
			args = append(args, v)
		}
		res, err = ev.applyInner(next, args, input, e)
		if err != nil {
			if ee, ok := err.(*Error); ok {
				if ee.Position < 0 {
					ee.Position = l.body.pos
				}
				if ee.Token == "" {
					ee.Token = l.body.procedure.str()
					if l.body.procedure.typ == "path" {
						ee.Token = l.body.procedure.steps[0].str()
					}
				}
			}
			return nil, err
		}
	}
}

func (ev *evaluator) applyInner(proc any, args []any, input any, e *env) (any, error) {
	switch p := proc.(type) {
	case *Lambda:
		if p.signature != nil {
			var err error
			args, err = p.signature.validate(args, input)
			if err != nil {
				return nil, err
			}
		}
		fe := newEnv(p.env)
		for i, name := range p.params {
			fe.bind(name, at(args, i))
		}
		if p.native != nil {
			full := make([]any, p.native.arity)
			for i := range full {
				full[i] = fe.lookup(p.nparams[i])
			}
			return p.native.call(ev, nil, fe, full)
		}
		return ev.eval(p.body, p.input, fe)
	case *Builtin:
		if p.sig != nil {
			var err error
			args, err = p.sig.validate(args, input)
			if err != nil {
				return nil, err
			}
		}
		return p.call(ev, input, e, args)
	case *Regex:
		s, _ := at(args, 0).(string)
		return regexMatchObj(p, s, 0)
	}
	return nil, &Error{Code: "T1006", Position: -1}
}

func (b *Builtin) call(ev *evaluator, input any, e *env, args []any) (any, error) {
	if b.ext != nil {
		pub := make([]any, len(args))
		for i, a := range args {
			pub[i] = fromInternal(a)
		}
		r, err := b.ext(pub...)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				return nil, &Error{Code: "D3137", Position: -1, Message: err.Error(), Value: err.Error()}
			}
			return nil, err
		}
		return toInternal(r), nil
	}
	return b.fn(ev, input, e, args)
}

func (ev *evaluator) evalPartial(n *node, input any, e *env) (any, error) {
	args := make([]any, len(n.arguments))
	holes := make([]bool, len(n.arguments))
	for i, a := range n.arguments {
		if a.typ == "operator" && a.value == "?" {
			holes[i] = true
			continue
		}
		v, err := ev.eval(a, input, e)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	proc, err := ev.eval(n.procedure, input, e)
	if err != nil {
		return nil, err
	}
	name := n.procedure.str()
	if n.procedure.typ == "path" {
		name = n.procedure.steps[0].str()
		if proc == nil && e.lookup(name) != nil {
			return nil, &Error{Code: "T1007", Position: n.pos, Token: name}
		}
	}
	switch p := proc.(type) {
	case *Lambda:
		fe := newEnv(p.env)
		var unbound []string
		for i, param := range p.params {
			if i < len(holes) && holes[i] {
				unbound = append(unbound, param)
			} else {
				fe.bind(param, at(args, i))
			}
		}
		return &Lambda{params: unbound, body: p.body, env: fe, input: p.input, native: p.native, nparams: p.nparams}, nil
	case *Builtin:
		n := p.arity
		if n < 0 {
			n = len(args)
		}
		params := make([]string, n)
		fe := newEnv(e)
		var unbound []string
		for i := range params {
			params[i] = "p" + strconv.Itoa(i)
			if i < len(holes) && holes[i] {
				unbound = append(unbound, params[i])
			} else {
				fe.bind(params[i], at(args, i))
			}
		}
		nb := *p
		nb.arity = n
		return &Lambda{params: unbound, env: fe, native: &nb, nparams: params}, nil
	}
	return nil, &Error{Code: "T1008", Position: n.pos, Token: name}
}

func (ev *evaluator) evalApply(n *node, input any, e *env) (any, error) {
	lhs, err := ev.eval(n.lhs, input, e)
	if err != nil {
		return nil, err
	}
	if n.rhs.typ == "function" {
		return ev.evalFunction(n.rhs, input, e, lhs, true)
	}
	fn, err := ev.eval(n.rhs, input, e)
	if err != nil {
		return nil, err
	}
	if !isFunction(fn) {
		return nil, &Error{Code: "T2006", Position: n.pos, Value: fn}
	}
	if isFunction(lhs) {
		return &Builtin{name: "chain", arity: 1, fn: func(ev *evaluator, input any, e *env, args []any) (any, error) {
			r, err := ev.apply(lhs, args, nil, e)
			if err != nil {
				return nil, err
			}
			return ev.apply(fn, []any{r}, nil, e)
		}}, nil
	}
	return ev.apply(fn, []any{lhs}, nil, e)
}

func (ev *evaluator) makeTransform(n *node, e *env) any {
	return &Builtin{name: "transform", arity: 1, sig: mustSig("<(oa):o>"), fn: func(ev *evaluator, input any, _ *env, args []any) (any, error) {
		obj := at(args, 0)
		if obj == nil {
			return nil, nil
		}
		cloneFn := e.lookup("clone")
		if !isFunction(cloneFn) {
			return nil, &Error{Code: "T2013", Position: n.pos}
		}
		result, err := ev.apply(cloneFn, []any{obj}, nil, e)
		if err != nil {
			return nil, err
		}
		matches, err := ev.eval(n.pattern, result, e)
		if err != nil {
			return nil, err
		}
		if matches == nil {
			return result, nil
		}
		ms := []any{matches}
		if a, ok := matches.(*Array); ok {
			ms = a.items
		}
		for _, m := range ms {
			upd, err := ev.eval(n.update, m, e)
			if err != nil {
				return nil, err
			}
			if upd != nil {
				uo, ok := upd.(*Object)
				if !ok {
					return nil, &Error{Code: "T2011", Position: n.update.pos, Value: upd}
				}
				if mo, ok := m.(*Object); ok {
					for _, k := range uo.Keys() {
						mo.Set(k, uo.get(k))
					}
				}
			}
			if n.del != nil {
				dels, err := ev.eval(n.del, m, e)
				if err != nil {
					return nil, err
				}
				if dels != nil {
					da, ok := dels.(*Array)
					if !ok {
						da = &Array{items: []any{dels}}
					}
					if !isArrayOfStrings(da) {
						return nil, &Error{Code: "T2012", Position: n.del.pos, Value: dels}
					}
					if mo, ok := m.(*Object); ok {
						for _, k := range da.items {
							mo.Delete(k.(string))
						}
					}
				}
			}
		}
		return result, nil
	}}
}
