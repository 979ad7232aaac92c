package asl

import (
	"sort"
	"strings"
)

// Diagnostic codes. Most are AWS's (ValidateStateMachineDefinition); the
// ones marked "kstates" are this project's own.
const (
	CodeInvalidJSON        = "INVALID_JSON_DESCRIPTION"
	CodeMissingDescription = "MISSING_DESCRIPTION"
	CodeSchema             = "SCHEMA_VALIDATION_FAILED"
	CodeMissingEndState    = "MISSING_END_STATE"
	CodeDuplicateStateName = "DUPLICATE_STATE_NAME"
	CodeInvalidStateName   = "INVALID_STATE_NAME"
	CodeMissingTransition  = "MISSING_TRANSITION_TARGET"
	CodeUnreachableState   = "UNREACHABLE_STATE"
	CodeInvalidResource    = "INVALID_RESOURCE"
	// Warnings (AWS's).
	CodeNoDollar             = "NO_DOLLAR"
	CodeNoPath               = "NO_PATH"
	CodePassResultIsStatic   = "PASS_RESULT_IS_STATIC"
	CodeDefinitionTooLarge   = "DEFINITION_TOO_LARGE" // kstates: over AWS's 1 MiB limit
	CodeDefinitionTooDeep    = "DEFINITION_TOO_DEEP"  // kstates: nesting over MaxNestingDepth
	CodeInvalidPath          = "INVALID_JSON_PATH"    // kstates: malformed path, reference path or intrinsic
	CodeInvalidJSONataSyntax = "INVALID_JSONATA"      // kstates: malformed {% %} expression delimiters
	// CodeInvalidJSONataExpression is AWS's code for a {% %} expression
	// that does not parse; the message names the JSONata error code.
	CodeInvalidJSONataExpression = "INVALID_JSONATA_EXPRESSION"
	// CodeUnsupportedJSONataExpression is AWS's code for an expression that
	// reads what Step Functions never provides there.
	CodeUnsupportedJSONataExpression = "UNSUPPORTED_JSONATA_EXPRESSION"
)

// HasErrors reports whether diags holds an ERROR diagnostic.
func HasErrors(diags []Diagnostic) bool {
	for _, d := range diags {
		if d.Severity == SeverityError {
			return true
		}
	}
	return false
}

// posDiag is a diagnostic with the document position it was found at.
type posDiag struct {
	pos int
	d   Diagnostic
}

func (p *parser) report(pos int, loc, code, sev, msg string) {
	if loc == "" {
		loc = "/"
	}
	p.diags = append(p.diags, posDiag{pos: pos, d: Diagnostic{Code: code, Location: loc, Message: msg, Severity: sev}})
}

// docError reports a problem with the document as a whole (location "",
// where AWS gives none).
func (p *parser) docError(code, msg string) {
	p.diags = append(p.diags, posDiag{d: Diagnostic{Code: code, Message: msg, Severity: SeverityError}})
}

func (p *parser) errorAt(n *node, loc, code, msg string) {
	pos := 0
	if n != nil {
		pos = n.pos
	}
	p.report(pos, loc, code, SeverityError, msg)
}

func (p *parser) warn(n *node, loc, code, msg string) {
	p.report(n.pos, loc, code, SeverityWarning, msg)
}

func (p *parser) schema(n *node, loc, msg string) { p.errorAt(n, loc, CodeSchema, msg) }

// sorted returns the diagnostics ordered by document position (stable, so
// findings at the same place keep the order they were found in).
func (p *parser) sorted() []Diagnostic {
	sort.SliceStable(p.diags, func(i, j int) bool { return p.diags[i].pos < p.diags[j].pos })
	out := make([]Diagnostic, len(p.diags))
	for i, d := range p.diags {
		out[i] = d.d
	}
	return out
}

// ptr appends a reference token to a JSON pointer (RFC 6901 escaping).
func ptr(base, token string) string {
	if strings.ContainsAny(token, "~/") {
		token = strings.ReplaceAll(strings.ReplaceAll(token, "~", "~0"), "/", "~1")
	}
	return base + "/" + token
}
