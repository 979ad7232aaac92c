package jsonata

// Reference is a read of the context value at the top level of an
// expression: a path whose first step is a field name (Name is the field),
// or the context value itself (Name is "$").
type Reference struct {
	Name     string
	Position int // character offset in the expression (the end of the token)
}

// TopLevelReferences lists, in source order and without repeated names,
// what the expression reads from its context value (the input) at the top
// level: bare field names starting a path (`a.b` reads `a`) and `$`.
//
// Only the first step of a path is evaluated against the context value;
// later steps, predicates ([...]), sort terms, group-by objects, transform
// patterns and the like run against the values before them, so names there
// are not listed. Function and partial-application arguments, array and
// object constructors (keys included: `{a: 1}` reads the field a), operands,
// conditions, block expressions, binding right-hand sides and lambda bodies
// (which keep the context they are defined in) are. `$$` is not listed.
//
// AWS Step Functions evaluates its expressions with no context value, and
// refuses a definition whose expressions make such a reference.
func (e *Expr) TopLevelReferences() []Reference {
	var out []Reference
	seen := map[string]bool{}
	add := func(name string, pos int) {
		if !seen[name] {
			seen[name] = true
			out = append(out, Reference{Name: name, Position: pos})
		}
	}
	var walk func(n *node)
	walk = func(n *node) {
		if n == nil {
			return
		}
		switch n.typ {
		case "path":
			if len(n.steps) > 0 {
				walk(n.steps[0])
			}
		case "name":
			add(n.str(), n.pos)
		case "variable":
			if n.str() == "" {
				add("$", n.pos)
			}
		case "unary":
			switch n.value {
			case "[":
				for _, x := range n.expressions {
					walk(x)
				}
			case "{":
				for _, p := range n.pairs {
					walk(p[0])
					walk(p[1])
				}
			default:
				walk(n.expression)
			}
		case "binary", "apply":
			walk(n.lhs)
			walk(n.rhs)
		case "function", "partial":
			walk(n.procedure)
			for _, a := range n.arguments {
				walk(a)
			}
		case "lambda":
			walk(n.body)
		case "condition":
			walk(n.condition)
			walk(n.then)
			walk(n.els)
		case "block":
			for _, x := range n.expressions {
				walk(x)
			}
		case "bind":
			walk(n.rhs)
		}
		// string, number, value, regex, wildcard, descendant, parent,
		// transform, sort, filter: nothing read at the top level.
	}
	walk(e.ast)
	return out
}
