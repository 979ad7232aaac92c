package engine

import (
	"fmt"
	"strings"
	"time"

	"github.com/kstates/kstates/internal/engine/asl"
	"github.com/kstates/kstates/internal/engine/jsonpath"
	"github.com/kstates/kstates/internal/engine/template"
	"github.com/kstates/kstates/internal/engine/value"
)

type opKind uint8

const (
	opAnd opKind = iota
	opOr
	opNot
	opStringEquals
	opStringLessThan
	opStringGreaterThan
	opStringLessThanEquals
	opStringGreaterThanEquals
	opStringMatches
	opNumericEquals
	opNumericLessThan
	opNumericGreaterThan
	opNumericLessThanEquals
	opNumericGreaterThanEquals
	opBooleanEquals
	opTimestampEquals
	opTimestampLessThan
	opTimestampGreaterThan
	opTimestampLessThanEquals
	opTimestampGreaterThanEquals
	opIsNull
	opIsPresent
	opIsNumeric
	opIsString
	opIsBoolean
	opIsTimestamp
)

var opNames = map[string]opKind{
	"StringEquals": opStringEquals, "StringLessThan": opStringLessThan, "StringGreaterThan": opStringGreaterThan,
	"StringLessThanEquals": opStringLessThanEquals, "StringGreaterThanEquals": opStringGreaterThanEquals,
	"StringMatches": opStringMatches,
	"NumericEquals": opNumericEquals, "NumericLessThan": opNumericLessThan, "NumericGreaterThan": opNumericGreaterThan,
	"NumericLessThanEquals": opNumericLessThanEquals, "NumericGreaterThanEquals": opNumericGreaterThanEquals,
	"BooleanEquals":   opBooleanEquals,
	"TimestampEquals": opTimestampEquals, "TimestampLessThan": opTimestampLessThan, "TimestampGreaterThan": opTimestampGreaterThan,
	"TimestampLessThanEquals": opTimestampLessThanEquals, "TimestampGreaterThanEquals": opTimestampGreaterThanEquals,
	"IsNull": opIsNull, "IsPresent": opIsPresent, "IsNumeric": opIsNumeric, "IsString": opIsString,
	"IsBoolean": opIsBoolean, "IsTimestamp": opIsTimestamp,
}

// cchoice is a compiled choice rule.
type cchoice struct {
	op       opKind
	name     string
	variable *jsonpath.Path
	operand  any            // literal operand
	opPath   *jsonpath.Path // for the ...Path forms
	subs     []*cchoice
	// StringMatches pattern, split on unescaped '*'.
	pattern []string
	tsOp    time.Time
	next    *cstate
	assign  *template.Template
}

func compileChoice(r *asl.ChoiceRule, ptr string, ce *compileErr, depth int) *cchoice {
	if r == nil {
		ce.add(ptr, "null choice rule")
		return nil
	}
	if depth > 100 {
		ce.add(ptr, "choice rules nest too deeply")
		return nil
	}
	c := &cchoice{}
	switch {
	case len(r.And) > 0:
		c.op = opAnd
		for i, x := range r.And {
			if s := compileChoice(x, fmt.Sprintf("%s/And/%d", ptr, i), ce, depth+1); s != nil {
				c.subs = append(c.subs, s)
			}
		}
		return c
	case len(r.Or) > 0:
		c.op = opOr
		for i, x := range r.Or {
			if s := compileChoice(x, fmt.Sprintf("%s/Or/%d", ptr, i), ce, depth+1); s != nil {
				c.subs = append(c.subs, s)
			}
		}
		return c
	case r.Not != nil:
		c.op = opNot
		if s := compileChoice(r.Not, ptr+"/Not", ce, depth+1); s != nil {
			c.subs = append(c.subs, s)
		}
		return c
	}
	name := r.Operator
	isPath := strings.HasSuffix(name, "Path") && name != "IsPresent"
	base := name
	if isPath {
		base = strings.TrimSuffix(name, "Path")
	}
	op, ok := opNames[base]
	if !ok {
		ce.add(ptr, "unknown comparison operator %q", name)
		return nil
	}
	c.op, c.name = op, name
	if r.Variable.Has() {
		p, err := jsonpath.Compile(r.Variable.Value)
		if err != nil {
			ce.add(ptr+"/Variable", "%v", err)
			return nil
		}
		c.variable = p
	} else {
		ce.add(ptr+"/Variable", "a comparison needs a Variable")
		return nil
	}
	if isPath {
		s, ok := r.Operand.(string)
		if !ok {
			ce.add(ptr+"/"+name, "must be a path string")
			return nil
		}
		p, err := jsonpath.Compile(s)
		if err != nil {
			ce.add(ptr+"/"+name, "%v", err)
			return nil
		}
		c.opPath = p
		return c
	}
	c.operand = r.Operand
	switch {
	case op == opStringMatches:
		s, _ := r.Operand.(string)
		c.pattern = splitPattern(s)
	case op >= opTimestampEquals && op <= opTimestampGreaterThanEquals:
		s, _ := r.Operand.(string)
		t, err := parseTimestamp(s)
		if err != nil {
			ce.add(ptr+"/"+name, "%q is not a timestamp", s)
		}
		c.tsOp = t
	}
	return c
}

// splitPattern splits a StringMatches pattern on unescaped '*'; "\*" is a
// literal star and "\\" a literal backslash.
func splitPattern(s string) []string {
	var parts []string
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '\\') {
			b.WriteByte(s[i+1])
			i++
			continue
		}
		if c == '*' {
			parts = append(parts, b.String())
			b.Reset()
			continue
		}
		b.WriteByte(c)
	}
	return append(parts, b.String())
}

// matchPattern matches s against parts (split on '*').
func matchPattern(parts []string, s string) bool {
	if len(parts) == 1 {
		return s == parts[0]
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}

// parseTimestamp parses an ISO-8601 extended offset date-time as AWS does.
func parseTimestamp(s string) (time.Time, error) {
	if len(s) < 20 || (s[10] != 'T' && s[10] != 't') {
		return time.Time{}, fmt.Errorf("not a timestamp")
	}
	return time.Parse(time.RFC3339Nano, s)
}

// evalChoice evaluates a rule. Errors are States.Runtime causes.
func evalChoice(c *cchoice, sc *jsonpath.Scope) (bool, error) {
	switch c.op {
	case opAnd:
		for _, s := range c.subs {
			ok, err := evalChoice(s, sc)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case opOr:
		for _, s := range c.subs {
			ok, err := evalChoice(s, sc)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case opNot:
		if len(c.subs) == 0 {
			return false, nil
		}
		ok, err := evalChoice(c.subs[0], sc)
		return !ok, err
	}
	v, err := c.variable.Get(sc)
	present := err == nil
	if c.op == opIsPresent {
		want, _ := c.operand.(bool)
		return present == want, nil
	}
	if !present {
		return false, invalidChoicePath(c.variable.String())
	}
	if c.op >= opIsNull {
		want, _ := c.operand.(bool)
		var is bool
		switch c.op {
		case opIsNull:
			is = v == nil
		case opIsNumeric:
			is = value.IsNumber(v)
		case opIsString:
			_, is = v.(string)
		case opIsBoolean:
			_, is = v.(bool)
		case opIsTimestamp:
			s, ok := v.(string)
			if ok {
				_, e := parseTimestamp(s)
				is = e == nil
			}
		}
		return is == want, nil
	}
	operand := c.operand
	ts := c.tsOp
	if c.opPath != nil {
		operand, err = c.opPath.Get(sc)
		if err != nil {
			return false, invalidChoicePath(c.opPath.String())
		}
		if c.op >= opTimestampEquals && c.op <= opTimestampGreaterThanEquals {
			s, ok := operand.(string)
			if !ok {
				return false, nil
			}
			if ts, err = parseTimestamp(s); err != nil {
				return false, nil
			}
		}
	}
	switch c.op {
	case opStringEquals, opStringLessThan, opStringGreaterThan, opStringLessThanEquals, opStringGreaterThanEquals:
		a, ok1 := v.(string)
		b, ok2 := operand.(string)
		if !ok1 || !ok2 {
			return false, nil
		}
		return cmpResult(c.op-opStringEquals, strings.Compare(a, b)), nil
	case opStringMatches:
		a, ok := v.(string)
		if !ok {
			return false, nil
		}
		parts := c.pattern
		if c.opPath != nil {
			s, ok := operand.(string)
			if !ok {
				return false, nil
			}
			parts = splitPattern(s)
		}
		return matchPattern(parts, a), nil
	case opNumericEquals, opNumericLessThan, opNumericGreaterThan, opNumericLessThanEquals, opNumericGreaterThanEquals:
		if !value.IsNumber(v) || !value.IsNumber(operand) {
			return false, nil
		}
		return cmpResult(c.op-opNumericEquals, numCompare(v, operand)), nil
	case opBooleanEquals:
		a, ok1 := v.(bool)
		b, ok2 := operand.(bool)
		return ok1 && ok2 && a == b, nil
	case opTimestampEquals, opTimestampLessThan, opTimestampGreaterThan, opTimestampLessThanEquals, opTimestampGreaterThanEquals:
		s, ok := v.(string)
		if !ok {
			return false, nil
		}
		t, err := parseTimestamp(s)
		if err != nil {
			return false, nil
		}
		return cmpResult(c.op-opTimestampEquals, t.Compare(ts)), nil
	}
	return false, nil
}

// cmpResult maps a comparison (-1, 0, 1) through the operator at offset k
// from its family's Equals: Equals, LessThan, GreaterThan, LessThanEquals,
// GreaterThanEquals.
func cmpResult(k opKind, c int) bool {
	switch k {
	case 0:
		return c == 0
	case 1:
		return c < 0
	case 2:
		return c > 0
	case 3:
		return c <= 0
	case 4:
		return c >= 0
	}
	return false
}

func numCompare(a, b any) int {
	if x, ok := a.(int64); ok {
		if y, ok := b.(int64); ok {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	}
	x, _ := toFloat(a)
	y, _ := toFloat(b)
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func toFloat(v any) (float64, bool) {
	n, ok := value.Number(v)
	if !ok {
		return 0, false
	}
	switch t := n.(type) {
	case int64:
		return float64(t), true
	case float64:
		return t, true
	}
	return 0, false
}

// invalidChoicePath is AWS's error for a rule whose path selects nothing.
func invalidChoicePath(p string) error {
	return fmt.Errorf("Invalid path '%s': The choice state's condition path references an invalid value.", p)
}
