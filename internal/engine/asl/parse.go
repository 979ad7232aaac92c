package asl

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// State machine types.
const (
	MachineStandard = "STANDARD"
	MachineExpress  = "EXPRESS"
)

// Options tune Parse.
type Options struct {
	// Type is the state machine type: STANDARD (default) or EXPRESS. EXPRESS
	// machines may not use .sync or .waitForTaskToken resources.
	Type string
}

// MaxStateNameLength is AWS's limit on a state name, in characters.
const MaxStateNameLength = 80

// Parse decodes a JSON or YAML definition and validates it. Every problem
// found is reported, ordered by position in the document. The Definition is
// only meaningful when no diagnostic has severity ERROR; it is nil when the
// document could not be decoded at all.
func Parse(data []byte, opts Options) (*Definition, []Diagnostic) {
	p := newParser(opts)
	if len(data) > MaxDefinitionSize {
		p.docError(CodeDefinitionTooLarge, fmt.Sprintf("The definition is %d bytes, more than the limit of %d bytes (1 MiB)", len(data), MaxDefinitionSize))
		return nil, p.final()
	}
	body := bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		p.docError(CodeMissingDescription, "The definition is empty")
		return nil, p.final()
	}
	var root *node
	var err error
	if trimmed[0] == '{' || trimmed[0] == '[' || trimmed[0] == '"' {
		root, err = decodeJSON(body)
	} else {
		if !utf8.Valid(body) {
			err = &syntaxError{code: CodeInvalidJSON, msg: "Invalid YAML: the document is not valid UTF-8"}
		} else {
			root, err = decodeYAML(body)
		}
	}
	if err != nil {
		var se *syntaxError
		if !errors.As(err, &se) {
			se = &syntaxError{code: CodeInvalidJSON, msg: err.Error()}
		}
		p.docError(se.code, se.msg)
		return nil, p.final()
	}
	def := p.root(root)
	return def, p.final()
}

// ParseValue validates an already-decoded definition (a map[string]any as
// encoding/json or the value package produce). A Go map has no order, so
// StateOrder lists the states sorted by name.
func ParseValue(v any, opts Options) (*Definition, []Diagnostic) {
	p := newParser(opts)
	seq := 0
	root, err := fromValue(v, 0, &seq)
	if err != nil {
		code, msg := CodeInvalidJSON, "Invalid definition: "+err.Error()
		if errors.Is(err, errTooDeep) {
			code = CodeDefinitionTooDeep
			msg = fmt.Sprintf("The definition nests objects and arrays more than %d levels deep", MaxNestingDepth)
		}
		p.docError(code, msg)
		return nil, p.final()
	}
	def := p.root(root)
	return def, p.final()
}

// parser accumulates diagnostics while building a Definition.
type parser struct {
	opts  Options
	diags []posDiag
	names map[string]string // state name -> pointer of its first declaration
	// broken holds states whose type or transition could not be read: they
	// might be terminal, so MISSING_END_STATE is not reported because of them.
	broken  map[*State]bool
	topQL   string
	express bool
	// inCatch is set while a catcher's Output and Assign are read (the
	// only fields where $states.errorOutput exists).
	inCatch bool
}

func newParser(opts Options) *parser {
	return &parser{opts: opts, names: map[string]string{}, broken: map[*State]bool{}}
}

func (p *parser) final() []Diagnostic {
	if len(p.diags) == 0 {
		return nil
	}
	return p.sorted()
}

func (p *parser) root(n *node) *Definition {
	switch p.opts.Type {
	case "", MachineStandard:
	case MachineExpress:
		p.express = true
	default:
		p.schema(n, "", fmt.Sprintf("Unknown state machine type %q: expected STANDARD or EXPRESS", p.opts.Type))
	}
	if n.kind != kObject {
		p.typeErr(n, "", "", kObject)
		return nil
	}
	return p.definition(n, "", scopeMachine)
}

// Scopes: what a StartAt/States object is.
type scope int

const (
	scopeMachine scope = iota
	scopeBranch
	scopeProcessor
)

var scopeFields = [...]map[string]bool{
	scopeMachine:   {"Comment": true, "StartAt": true, "States": true, "Version": true, "TimeoutSeconds": true, "QueryLanguage": true},
	scopeBranch:    {"Comment": true, "StartAt": true, "States": true},
	scopeProcessor: {"Comment": true, "StartAt": true, "States": true, "ProcessorConfig": true},
}

// edge is a transition found in a state, checked once the scope is known.
type edge struct {
	target string
	loc    string
	n      *node
}

// definition builds a machine, branch or item processor. A branch or an item
// processor carries no QueryLanguage: its states inherit the machine's (as
// on AWS, a Map's or Parallel's own QueryLanguage does not reach them).
func (p *parser) definition(n *node, loc string, sc scope) *Definition {
	if n.kind != kObject {
		p.typeErr(n, loc, "", kObject)
		return nil
	}
	def := &Definition{Pointer: loc, QueryLanguage: QueryLanguageJSONPath, States: map[string]*State{}}
	if sc != scopeMachine {
		def.QueryLanguage = p.topQL
	}
	allowed := scopeFields[sc]
	p.checkDuplicateKeys(n, loc)
	p.required(n, loc, "StartAt", "States")
	var statesNode, startNode *node
	for i, key := range n.keys {
		v, vloc := n.vals[i], ptr(loc, key)
		if !allowed[key] {
			p.unsupported(v, loc, key)
			continue
		}
		switch key {
		case "Comment":
			def.Comment, _ = p.str(v, vloc, key)
		case "StartAt":
			def.StartAt, _ = p.str(v, vloc, key)
			startNode = v
		case "States":
			if v.kind != kObject {
				p.typeErr(v, vloc, key, kObject)
			} else {
				statesNode = v
			}
		case "Version":
			def.Version, _ = p.str(v, vloc, key)
		case "TimeoutSeconds":
			if t, ok := p.intRange(v, vloc, key, 1, maxSeconds); ok {
				def.TimeoutSeconds = &t
			}
		case "QueryLanguage":
			def.QueryLanguage = p.queryLanguage(v, vloc)
		case "ProcessorConfig":
			def.ProcessorConfig = p.processorConfig(v, vloc)
		}
	}
	if sc == scopeMachine {
		p.topQL = def.QueryLanguage
	}
	if sc == scopeProcessor && def.ProcessorConfig == nil {
		def.ProcessorConfig = &ProcessorConfig{Mode: "INLINE"}
	}
	saved := p.express
	if def.ProcessorConfig != nil && def.ProcessorConfig.ExecutionType == MachineExpress {
		p.express = true
	}
	defer func() { p.express = saved }()

	if statesNode == nil {
		return def
	}
	statesLoc := ptr(loc, "States")
	if len(statesNode.keys) == 0 {
		p.schema(statesNode, statesLoc, "The States object must hold at least one state")
	}
	var edges []edge
	if startNode != nil && startNode.kind == kString {
		edges = append(edges, edge{target: def.StartAt, loc: ptr(loc, "StartAt"), n: startNode})
	}
	for i, name := range statesNode.keys {
		sn, sloc := statesNode.vals[i], ptr(statesLoc, name)
		p.checkStateName(sn, sloc, name)
		st, out := p.state(name, sn, sloc, def.QueryLanguage)
		if _, dup := def.States[name]; dup {
			continue // reported by checkStateName
		}
		def.StateOrder = append(def.StateOrder, name)
		def.States[name] = st
		edges = append(edges, out...)
	}
	p.checkGraph(def, n, sc, edges)
	return def
}

func (p *parser) checkStateName(n *node, loc, name string) {
	if first, dup := p.names[name]; dup {
		p.errorAt(n, loc, CodeDuplicateStateName, fmt.Sprintf("Duplicate State name: %s (first declared at %s); state names must be unique in the whole state machine", name, first))
	} else {
		p.names[name] = loc
	}
	switch l := utf8.RuneCountInString(name); {
	case l == 0:
		p.errorAt(n, loc, CodeInvalidStateName, "State names must not be empty")
	case l > MaxStateNameLength:
		p.errorAt(n, loc, CodeInvalidStateName, fmt.Sprintf("State name is %d characters long, more than the limit of %d", l, MaxStateNameLength))
	}
}

// checkGraph checks a scope's transitions, reachability and terminal states.
// As on AWS: a dangling target is MISSING_TRANSITION_TARGET; a machine with
// no terminal state is MISSING_END_STATE (top level only: AWS accepts a
// branch or item processor that loops forever) and then gets no
// reachability findings; an unreachable state is reported with the code
// MISSING_TRANSITION_TARGET too.
func (p *parser) checkGraph(def *Definition, n *node, sc scope, edges []edge) {
	for _, e := range edges {
		if _, ok := def.States[e.target]; !ok {
			p.errorAt(e.n, e.loc, CodeMissingTransition, fmt.Sprintf("Missing 'Next' target: %s", e.target))
		}
	}
	terminal := false
	for _, st := range def.States {
		if st.End || st.Type == TypeSucceed || st.Type == TypeFail || p.broken[st] {
			terminal = true
			break
		}
	}
	if !terminal {
		if sc == scopeMachine && len(def.States) > 0 {
			// A finding about the whole machine: AWS gives no location and
			// lists it after the others.
			p.diags = append(p.diags, posDiag{pos: math.MaxInt, d: Diagnostic{Code: CodeMissingEndState, Location: "", Message: "Workflow has no terminal state", Severity: SeverityError}})
		}
		return
	}
	if startNode := n.get("StartAt"); startNode == nil || startNode.kind != kString {
		return // no start to walk from (reported already)
	}
	seen := make(map[string]bool, len(def.States))
	var queue []string
	if _, ok := def.States[def.StartAt]; ok {
		seen[def.StartAt] = true
		queue = append(queue, def.StartAt)
	}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, t := range successors(def.States[cur]) {
			if _, ok := def.States[t]; ok && !seen[t] {
				seen[t] = true
				queue = append(queue, t)
			}
		}
	}
	states := n.get("States")
	for _, name := range def.StateOrder {
		if !seen[name] {
			p.errorAt(states.get(name), def.States[name].Pointer, CodeMissingTransition, fmt.Sprintf("State %q is not reachable.", name))
		}
	}
}

// successors lists the states a state may transition to.
func successors(st *State) []string {
	var out []string
	if st.Next != "" {
		out = append(out, st.Next)
	}
	for _, c := range st.Choices {
		if c != nil && c.Next != "" {
			out = append(out, c.Next)
		}
	}
	if st.Default != "" {
		out = append(out, st.Default)
	}
	for _, c := range st.Catch {
		if c != nil && c.Next != "" {
			out = append(out, c.Next)
		}
	}
	return out
}

func (p *parser) processorConfig(n *node, loc string) *ProcessorConfig {
	if n.kind != kObject {
		p.typeErr(n, loc, "ProcessorConfig", kObject)
		return nil
	}
	pc := &ProcessorConfig{Mode: "INLINE"}
	for i, key := range n.keys {
		v, vloc := n.vals[i], ptr(loc, key)
		switch key {
		case "Mode":
			if s, ok := p.str(v, vloc, key); ok {
				if s != "INLINE" && s != "DISTRIBUTED" {
					p.schema(v, vloc, fmt.Sprintf("Mode must be INLINE or DISTRIBUTED, got %q", s))
				} else {
					pc.Mode = s
				}
			}
		case "ExecutionType":
			if s, ok := p.str(v, vloc, key); ok {
				if s != MachineStandard && s != MachineExpress {
					p.schema(v, vloc, fmt.Sprintf("ExecutionType must be STANDARD or EXPRESS, got %q", s))
				} else {
					pc.ExecutionType = s
				}
			}
		default:
			p.unsupported(v, loc, key)
		}
	}
	return pc
}
