package asl

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/kstates/kstates/internal/engine/intrinsics"
	"github.com/kstates/kstates/internal/engine/jsonata"
	"github.com/kstates/kstates/internal/engine/jsonpath"
	"github.com/kstates/kstates/internal/engine/template"
)

// maxSeconds is AWS's upper bound on the *Seconds and MaxAttempts fields.
const maxSeconds = 99999999

// typeErr reports a value of the wrong JSON type, in AWS's words.
func (p *parser) typeErr(n *node, loc, field string, want kind) {
	p.schema(n, loc, fmt.Sprintf("Expected value of type [%s]", strings.ToUpper(want.String())))
}

// typeErrName is typeErr for a named type (INTEGER).
func (p *parser) typeErrName(n *node, loc, want string) {
	p.schema(n, loc, fmt.Sprintf("Expected value of type [%s]", want))
}

// unsupported reports field v in the object at objLoc: AWS locates the
// message at the object, not at the field.
func (p *parser) unsupported(v *node, objLoc, field string) {
	p.schema(v, objLoc, fmt.Sprintf("Field '%s' is not supported", field))
}

// modeErr reports a field of the other query language, located (as AWS
// does) at the object holding it.
func (p *parser) modeErr(v *node, objLoc, field, ql string) {
	other := QueryLanguageJSONPath
	if ql == QueryLanguageJSONPath {
		other = QueryLanguageJSONata
	}
	p.schema(v, objLoc, fmt.Sprintf("The QueryLanguage is set to '%s', but field '%s' is only supported for the '%s' QueryLanguage", ql, field, other))
}

// required reports missing fields of the object n at loc.
func (p *parser) required(n *node, loc string, fields ...string) {
	var missing []string
	for _, f := range fields {
		if n.get(f) == nil {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		p.schema(n, loc, "These fields are required: ["+strings.Join(missing, ", ")+"]")
	}
}

// checkDuplicateKeys reports keys written twice in a structural object.
func (p *parser) checkDuplicateKeys(n *node, loc string) {
	if len(n.keys) < 2 {
		return
	}
	seen := make(map[string]bool, len(n.keys))
	for i, k := range n.keys {
		if seen[k] {
			p.schema(n.vals[i], ptr(loc, k), fmt.Sprintf("The field %q appears more than once", k))
		}
		seen[k] = true
	}
}

func (p *parser) str(n *node, loc, field string) (string, bool) {
	if n.kind != kString {
		p.typeErr(n, loc, field, kString)
		return "", false
	}
	return n.str, true
}

func (p *parser) boolean(n *node, loc, field string) (bool, bool) {
	if n.kind != kBool {
		p.typeErr(n, loc, field, kBool)
		return false, false
	}
	return n.b, true
}

// intRange checks an integer field within [lo, hi].
func (p *parser) intRange(n *node, loc, field string, lo, hi int64) (int64, bool) {
	i, ok := n.integer()
	if !ok {
		if n.kind == kNumber && !strings.ContainsAny(n.str, ".eE") {
			// an integer too large for int64
			if n.str[0] == '-' {
				p.schema(n, loc, fmt.Sprintf("Minimum value is %d", lo))
			} else {
				p.schema(n, loc, fmt.Sprintf("Maximum value is %d", hi))
			}
		} else {
			p.typeErrName(n, loc, "INTEGER")
		}
		return 0, false
	}
	if i < lo {
		p.schema(n, loc, fmt.Sprintf("Minimum value is %d", lo))
		return 0, false
	}
	if i > hi {
		p.schema(n, loc, fmt.Sprintf("Maximum value is %d", hi))
		return 0, false
	}
	return i, true
}

// queryLanguage resolves a QueryLanguage field as AWS does: exactly
// "JSONPath" is JSONPath, any other value JSONata; values outside the enum
// are reported.
func (p *parser) queryLanguage(n *node, loc string) string {
	s, ok := p.str(n, loc, "QueryLanguage")
	if ok && s == QueryLanguageJSONPath {
		return QueryLanguageJSONPath
	}
	if ok && s != QueryLanguageJSONata {
		p.schema(n, loc, "Value should be one of the following: [JSONPath, JSONata]")
	}
	return QueryLanguageJSONata
}

// path reads and compiles a path field (InputPath, ItemsPath, *Path, ...).
// nullable allows JSON null.
func (p *parser) path(n *node, loc, field string, nullable bool) Optional[string] {
	if n.kind == kNull && nullable {
		return Optional[string]{Set: true, Null: true}
	}
	s, ok := p.str(n, loc, field)
	if ok {
		if _, err := jsonpath.Compile(s); err != nil {
			p.errorAt(n, loc, CodeInvalidPath, fmt.Sprintf("The value of %q is not a valid JSONPath: %v", field, err))
		}
	}
	return Optional[string]{Set: true, Value: s}
}

// pathOrIntrinsic is a *Path field that may also hold an intrinsic function
// (ErrorPath, CausePath).
func (p *parser) pathOrIntrinsic(n *node, loc, field string) Optional[string] {
	s, ok := p.str(n, loc, field)
	if ok {
		p.expr(n, loc, field, s)
	}
	return Optional[string]{Set: true, Value: s}
}

// expr compiles a ".$" value: an intrinsic function call or a path.
func (p *parser) expr(n *node, loc, field, s string) bool {
	if intrinsics.IsIntrinsic(s) {
		if _, err := intrinsics.Parse(s); err != nil {
			p.errorAt(n, loc, CodeInvalidPath, fmt.Sprintf("The value of %q is not a valid intrinsic function: %v", field, err))
			return false
		}
		return true
	}
	if _, err := jsonpath.Compile(s); err != nil {
		p.errorAt(n, loc, CodeInvalidPath, fmt.Sprintf("The value of %q is not a valid JSONPath or intrinsic function: %v", field, err))
		return false
	}
	return true
}

func (p *parser) referencePath(n *node, loc string) Optional[string] {
	if n.kind == kNull {
		return Optional[string]{Set: true, Null: true}
	}
	s, ok := p.str(n, loc, "ResultPath")
	if ok {
		if _, err := jsonpath.CompileReference(s); err != nil {
			p.errorAt(n, loc, CodeInvalidPath, fmt.Sprintf("The value of \"ResultPath\" is not a valid reference path: %v", err))
		}
	}
	return Optional[string]{Set: true, Value: s}
}

// jsonPathTemplate checks a JSONPath-mode payload template and returns it as
// a value. isAssign checks the keys as variable names.
func (p *parser) jsonPathTemplate(n *node, loc, field string, isAssign bool) Optional[any] {
	if n.kind == kNull {
		return Optional[any]{Set: true, Null: true}
	}
	if isAssign && n.kind != kObject {
		p.typeErr(n, loc, field, kObject)
		return Optional[any]{Set: true, Value: n.toAny()}
	}
	before := len(p.diags)
	if isAssign {
		for i, k := range n.keys {
			p.variableName(n.vals[i], ptr(loc, k), strings.TrimSuffix(k, ".$"))
		}
	}
	p.walkTemplate(n, loc)
	v := n.toAny()
	if len(p.diags) == before {
		if _, err := template.Compile(v); err != nil {
			p.errorAt(n, loc, CodeInvalidPath, fmt.Sprintf("Invalid %s: %v", field, err))
		}
	}
	return Optional[any]{Set: true, Value: v}
}

func (p *parser) walkTemplate(n *node, loc string) {
	switch n.kind {
	case kObject:
		for i, k := range n.keys {
			v, vloc := n.vals[i], ptr(loc, k)
			if strings.HasSuffix(k, ".$") {
				if v.kind != kString {
					p.schema(v, vloc, fmt.Sprintf("The value of %q must be a string holding a JSONPath or an intrinsic function, got %s", k, v.kind))
					continue
				}
				p.expr(v, vloc, k, v.str)
				continue
			}
			if v.kind == kString && looksDynamic(v.str) {
				p.warn(v, vloc, CodeNoDollar, fmt.Sprintf("The value of '%s' looks like a JSONPath or an intrinsic function, but the field name does not end in '.$', so it is used as a literal string", k))
			}
			p.walkTemplate(v, vloc)
		}
	case kArray:
		for i, v := range n.vals {
			p.walkTemplate(v, fmt.Sprintf("%s/%d", loc, i))
		}
	}
}

// looksDynamic reports whether a literal string looks like a path or an
// intrinsic function call (the cue for AWS's NO_DOLLAR/NO_PATH warnings).
func looksDynamic(s string) bool {
	for _, prefix := range []string{"$.", "$[", "$$.", "$$["} {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return strings.HasPrefix(s, "States.") && strings.Contains(s, "(") && strings.HasSuffix(s, ")")
}

// hasDynamicKey reports whether a value holds an object key ending in ".$".
func hasDynamicKey(n *node) bool {
	for i, k := range n.keys {
		if strings.HasSuffix(k, ".$") {
			return true
		}
		if hasDynamicKey(n.vals[i]) {
			return true
		}
	}
	if n.kind == kArray {
		for _, v := range n.vals {
			if hasDynamicKey(v) {
				return true
			}
		}
	}
	return false
}

// noPath warns about a literal field whose value looks like a path.
func (p *parser) noPath(n *node, loc, field, ql string) {
	if ql != QueryLanguageJSONata && n.kind == kString && looksDynamic(n.str) {
		p.warn(n, loc, CodeNoPath, fmt.Sprintf("The value of '%s' looks like a path, but the field name does not end in 'Path', so it is used as a literal string", field))
	}
}

// variableName checks an Assign key. AWS: a letter or underscore, then
// letters, digits and underscores; "states" is reserved.
func (p *parser) variableName(n *node, loc, name string) {
	ok := name != ""
	for i, r := range name {
		if !(r == '_' || unicode.IsLetter(r) || (i > 0 && unicode.IsDigit(r))) {
			ok = false
			break
		}
	}
	if !ok {
		p.schema(n, loc, fmt.Sprintf("%q is not a valid variable name: it must start with a letter or underscore and hold only letters, digits and underscores", name))
	} else if name == "states" {
		p.schema(n, loc, "The variable name \"states\" is reserved")
	}
}

// isJSONata reports whether s is a {% %} expression.
func isJSONata(s string) bool {
	t := strings.TrimSpace(s)
	return strings.HasPrefix(t, "{%") && strings.HasSuffix(t, "%}") && len(t) >= 4
}

// jsonataTemplate checks a JSONata-mode template (Arguments, Output, Assign,
// ItemSelector...): every string that opens "{%" must close "%}".
func (p *parser) jsonataTemplate(n *node, loc, field string, isAssign bool) Optional[any] {
	if isAssign {
		if n.kind != kObject {
			p.typeErr(n, loc, field, kObject)
			return Optional[any]{Set: true, Value: n.toAny()}
		}
		for i, k := range n.keys {
			p.variableName(n.vals[i], ptr(loc, k), k)
		}
	}
	p.walkJSONata(n, loc)
	if n.kind == kNull {
		return Optional[any]{Set: true, Null: true}
	}
	return Optional[any]{Set: true, Value: n.toAny()}
}

func (p *parser) walkJSONata(n *node, loc string) {
	switch n.kind {
	case kString:
		t := strings.TrimSpace(n.str)
		if strings.HasPrefix(t, "{%") && !isJSONata(t) {
			p.errorAt(n, loc, CodeInvalidJSONataSyntax, "A JSONata expression must be written as {% expression %}")
		}
		p.compileJSONata(n, loc)
	case kObject:
		for i, k := range n.keys {
			p.walkJSONata(n.vals[i], ptr(loc, k))
		}
	case kArray:
		for i, v := range n.vals {
			p.walkJSONata(v, fmt.Sprintf("%s/%d", loc, i))
		}
	}
}

// compileJSONata reports a {% %} string whose expression does not parse,
// with the JSONata error code and position (the character offset in the
// expression).
func (p *parser) compileJSONata(n *node, loc string) {
	if n.kind != kString || !isJSONata(n.str) {
		return
	}
	t := strings.TrimSpace(n.str)
	src := strings.TrimSpace(t[2 : len(t)-2])
	expr, err := jsonata.Compile(src)
	if err != nil {
		msg := err.Error()
		var je *jsonata.Error
		if errors.As(err, &je) {
			msg = fmt.Sprintf("%s (JSONata error %s at position %d of '%s')", jsonataMessage(je), je.Code, je.Position, src)
		}
		p.errorAt(n, loc, CodeInvalidJSONataExpression, msg)
		return
	}
	// Step Functions evaluates expressions without a context value: AWS
	// refuses a bare field name or $ read at the top level, one diagnostic
	// per distinct name.
	for _, r := range expr.TopLevelReferences() {
		p.errorAt(n, loc, CodeUnsupportedJSONataExpression, TopLevelReferenceMessage(r.Name))
	}
	code := jsonataCode(src)
	if strings.Contains(code, "$$") {
		p.errorAt(n, loc, CodeUnsupportedJSONataExpression, "The JSONata variable '$$' is not supported: Step Functions evaluates expressions without an input document; read the state input as $states.input")
	}
	if !p.inCatch && strings.Contains(code, "$states.errorOutput") {
		p.errorAt(n, loc, CodeUnsupportedJSONataExpression, "$states.errorOutput is only available in a catcher's Output and Assign")
	}
}

// TopLevelReferenceMessage is AWS's message (code
// UNSUPPORTED_JSONATA_EXPRESSION) for an expression that reads the field
// name (or "$") from the context value at its top level.
func TopLevelReferenceMessage(name string) string {
	return fmt.Sprintf("Reference to '%s' at the top level is not supported.", name)
}

// jsonataCode is src with the contents of string literals, backquoted names
// and comments blanked, so that a search finds only code.
func jsonataCode(src string) string {
	b := []byte(src)
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"' || c == '\'' || c == '`':
			for i++; i < len(b) && b[i] != c; i++ {
				if b[i] == '\\' && c != '`' && i+1 < len(b) {
					b[i] = ' '
					i++
				}
				b[i] = ' '
			}
		case c == '/' && i+1 < len(b) && b[i+1] == '*':
			for i += 2; i < len(b) && !(b[i] == '*' && i+1 < len(b) && b[i+1] == '/'); i++ {
				b[i] = ' '
			}
			i++
		}
	}
	return string(b)
}

// jsonataMessage is a JSONata error's message without its code and
// position (Compile leaves Message empty; Error() renders it).
func jsonataMessage(je *jsonata.Error) string {
	if je.Message != "" {
		return je.Message
	}
	msg := strings.TrimPrefix(je.Error(), je.Code+": ")
	if i := strings.LastIndex(msg, " (position "); i >= 0 {
		msg = msg[:i]
	}
	return msg
}

// jsonataOrInt reads a field that is an integer in [lo, hi] or, in JSONata
// states, a {% %} expression.
func (p *parser) jsonataOrInt(n *node, loc, field string, ql string, lo, hi int64) Optional[any] {
	if ql == QueryLanguageJSONata && n.kind == kString {
		if !isJSONata(n.str) {
			p.schema(n, loc, fmt.Sprintf("The value of %q must be an integer or a JSONata expression {%% ... %%}", field))
		}
		p.compileJSONata(n, loc)
		return Optional[any]{Set: true, Value: n.str}
	}
	i, ok := p.intRange(n, loc, field, lo, hi)
	if !ok {
		return Optional[any]{Set: true}
	}
	return Optional[any]{Set: true, Value: i}
}

// errorEquals checks an ErrorEquals array; it reports whether States.ALL is
// in it.
func (p *parser) errorEquals(n *node, loc string) ([]string, bool) {
	if n.kind != kArray {
		p.typeErr(n, loc, "ErrorEquals", kArray)
		return nil, false
	}
	if len(n.vals) == 0 {
		p.schema(n, loc, "ErrorEquals must hold at least one error name")
		return nil, false
	}
	var out []string
	all := false
	for i, v := range n.vals {
		vloc := fmt.Sprintf("%s/%d", loc, i)
		s, ok := p.str(v, vloc, "ErrorEquals")
		if !ok {
			continue
		}
		out = append(out, s)
		if s == "States.ALL" {
			all = true
		}
	}
	if all && len(n.vals) > 1 {
		p.schema(n, loc, "States.ALL must appear alone in ErrorEquals")
	}
	return out, all
}
