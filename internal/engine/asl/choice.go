package asl

import (
	"fmt"
	"strings"
)

// Operand kinds of the Choice comparison operators.
const (
	opString = iota
	opNumber
	opBool
	opTimestamp
	opPath
	opIsType
)

// choiceOperators maps each comparison operator to its operand kind.
var choiceOperators = func() map[string]int {
	m := map[string]int{
		"BooleanEquals": opBool, "BooleanEqualsPath": opPath, "StringMatches": opString,
		"IsNull": opIsType, "IsPresent": opIsType, "IsNumeric": opIsType, "IsString": opIsType,
		"IsBoolean": opIsType, "IsTimestamp": opIsType,
	}
	for _, base := range []string{"Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"} {
		m["String"+base] = opString
		m["Numeric"+base] = opNumber
		m["Timestamp"+base] = opTimestamp
		m["String"+base+"Path"] = opPath
		m["Numeric"+base+"Path"] = opPath
		m["Timestamp"+base+"Path"] = opPath
	}
	return m
}()

// IsChoiceOperator reports whether name is a Choice comparison operator.
func IsChoiceOperator(name string) bool {
	_, ok := choiceOperators[name]
	return ok
}

func (p *parser) choices(n *node, loc, ql string) ([]*ChoiceRule, []edge) {
	if n.kind != kArray {
		p.typeErr(n, loc, "Choices", kArray)
		return nil, nil
	}
	if len(n.vals) == 0 {
		p.schema(n, loc, "Choices must hold at least one rule")
	}
	var out []*ChoiceRule
	var edges []edge
	for i, rn := range n.vals {
		r, e := p.rule(rn, fmt.Sprintf("%s/%d", loc, i), ql, true)
		if r != nil {
			out = append(out, r)
		}
		edges = append(edges, e...)
	}
	return out, edges
}

// rule builds a Choice rule; top is false for rules nested in And/Or/Not.
func (p *parser) rule(n *node, loc, ql string, top bool) (*ChoiceRule, []edge) {
	if n.kind != kObject {
		p.schema(n, loc, fmt.Sprintf("Expected value of type object for a Choice rule, got %s", n.kind))
		return nil, nil
	}
	p.checkDuplicateKeys(n, loc)
	r := &ChoiceRule{Pointer: loc}
	var edges []edge
	var ops []string
	fieldErrs := 0 // unknown or other-language fields: the operator may be among them
	jsonata := ql == QueryLanguageJSONata
	for i, key := range n.keys {
		v, vloc := n.vals[i], ptr(loc, key)
		_, isOp := choiceOperators[key]
		isLogic := key == "And" || key == "Or" || key == "Not"
		switch {
		case key == "Comment":
			r.Comment, _ = p.str(v, vloc, key)
			continue
		case key == "Next" || key == "Assign" || key == "Output":
			if !top {
				p.schema(v, vloc, fmt.Sprintf("The field %q is only allowed in a top-level Choice rule, not in a nested one", key))
				continue
			}
		}
		if (jsonata && (isOp || isLogic || key == "Variable")) || (!jsonata && (key == "Condition" || key == "Output")) {
			p.modeErr(v, loc, key, ql)
			fieldErrs++
			continue
		}
		switch {
		case key == "Next":
			if s, ok := p.str(v, vloc, key); ok {
				r.Next = s
				edges = append(edges, edge{target: s, loc: vloc, n: v})
			}
		case key == "Assign":
			if jsonata {
				r.Assign = p.jsonataTemplate(v, vloc, key, true)
			} else {
				r.Assign = p.jsonPathTemplate(v, vloc, key, true)
			}
		case key == "Output":
			r.Output = p.jsonataTemplate(v, vloc, key, false)
		case key == "Condition":
			switch {
			case v.kind == kBool:
				r.Condition = Optional[any]{Set: true, Value: v.b}
			case v.kind == kString && isJSONata(v.str):
				r.Condition = Optional[any]{Set: true, Value: v.str}
				p.compileJSONata(v, vloc)
			default:
				p.schema(v, vloc, "The value of \"Condition\" must be a boolean or a JSONata expression {% ... %}")
			}
		case key == "Variable":
			r.Variable = p.path(v, vloc, key, false)
		case isOp:
			ops = append(ops, key)
			r.Operator = key
			r.Operand = p.operand(v, vloc, key)
		case key == "And" || key == "Or":
			ops = append(ops, key)
			if v.kind != kArray {
				p.typeErr(v, vloc, key, kArray)
				continue
			}
			if len(v.vals) == 0 {
				p.schema(v, vloc, fmt.Sprintf("%q must hold at least one rule", key))
			}
			var subs []*ChoiceRule
			for j, sn := range v.vals {
				sub, e := p.rule(sn, fmt.Sprintf("%s/%d", vloc, j), ql, false)
				edges = append(edges, e...)
				if sub != nil {
					subs = append(subs, sub)
				}
			}
			if key == "And" {
				r.And = subs
			} else {
				r.Or = subs
			}
		case key == "Not":
			ops = append(ops, key)
			sub, e := p.rule(v, vloc, ql, false)
			edges = append(edges, e...)
			r.Not = sub
		default:
			p.unsupported(v, loc, key)
			fieldErrs++
		}
	}
	if top && n.get("Next") == nil {
		p.schema(n, loc, "These fields are required: [Next]")
	}
	if jsonata {
		if n.get("Condition") == nil && fieldErrs == 0 {
			p.schema(n, loc, "These fields are required: [Condition]")
		}
		return r, edges
	}
	switch {
	case len(ops) == 0:
		if fieldErrs == 0 {
			p.schema(n, loc, "The Choice rule has no comparison operator (StringEquals, NumericLessThan, IsPresent, And, Or, Not, ...)")
		}
	case len(ops) > 1:
		p.schema(n, loc, fmt.Sprintf("The Choice rule has more than one operator: %s", strings.Join(ops, ", ")))
	default:
		op := ops[0]
		isLogic := op == "And" || op == "Or" || op == "Not"
		hasVar := n.get("Variable") != nil
		if !isLogic && !hasVar {
			p.schema(n, loc, fmt.Sprintf("These fields are required: [Variable] (for %s)", op))
		}
		if isLogic && hasVar {
			p.schema(n.get("Variable"), ptr(loc, "Variable"), fmt.Sprintf("The field \"Variable\" may not be used with %q", op))
		}
	}
	return r, edges
}

// operand checks a comparison operator's value and returns it as a value.
func (p *parser) operand(v *node, loc, op string) any {
	switch choiceOperators[op] {
	case opString, opTimestamp:
		if v.kind != kString {
			p.typeErr(v, loc, op, kString)
		} else {
			p.noPath(v, loc, op, QueryLanguageJSONPath)
		}
	case opNumber:
		if v.kind != kNumber {
			p.typeErr(v, loc, op, kNumber)
		}
	case opBool, opIsType:
		if v.kind != kBool {
			p.typeErr(v, loc, op, kBool)
		}
	case opPath:
		if v.kind != kString {
			p.typeErr(v, loc, op, kString)
		} else {
			p.path(v, loc, op, false)
		}
	}
	return v.toAny()
}
