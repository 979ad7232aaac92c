package jsonata

import "strconv"

// Function application: calls, the tail-call trampoline, partial application, ~> and transforms.

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
