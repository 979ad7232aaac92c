package jsonata

import (
	"math"
	"sort"
)

// Path evaluation: steps, sequences, tuple streams (@, #, %), predicates, group-by and order-by.

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
	if r, ok, err := ev.evalVarPath(n, e); ok || err != nil {
		return r, err
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

// plainStep reports whether step is a bare field name (or, first, a
// variable) with nothing attached: no predicate, stage, group, focus,
// index or parent slot.
func plainStep(st *node) bool {
	return st.stages == nil && st.predicate == nil && st.group == nil && !st.tuple && !st.keepArray &&
		!st.consarray && st.focus == "" && st.index == "" && st.ancestor == nil && st.slot == nil
}

// evalVarPath is a fast path for the commonest path, `$var.a.b` (as in
// `$states.input.field`): a named variable followed by plain field names
// walked through objects. It gives what the general path evaluation gives
// after its singleton sequence is unwrapped, without building sequences;
// ok is false (and nothing was evaluated that matters) when the path or
// the values along it need the general evaluation (arrays, sequences).
func (ev *evaluator) evalVarPath(n *node, e *env) (result any, ok bool, err error) {
	if len(n.steps) < 2 || n.group != nil || n.keepSingleton || n.tuple || n.hasSeeking {
		return nil, false, nil
	}
	first := n.steps[0]
	if first.typ != "variable" || first.str() == "" || !plainStep(first) {
		return nil, false, nil
	}
	for _, st := range n.steps[1:] {
		if st.typ != "name" || !plainStep(st) {
			return nil, false, nil
		}
	}
	if ev.maxDepth > 0 && ev.depth+1 > ev.maxDepth {
		return nil, false, ev.enter()
	}
	if err := ev.checkTime(); err != nil {
		return nil, false, err
	}
	cur := e.lookup(first.str())
	for i, st := range n.steps[1:] {
		switch c := cur.(type) {
		case nil:
			return nil, true, nil
		case *Object:
			cur = c.get(st.str())
		case *Array:
			return nil, false, nil
		default:
			// a field of a non-object is undefined
			return nil, true, nil
		}
		if a, isArr := cur.(*Array); isArr && (a.seq || i < len(n.steps)-2) {
			return nil, false, nil
		}
	}
	return cur, true, nil
}

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
