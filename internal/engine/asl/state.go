package asl

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Which query language a field belongs to.
type mode uint8

const (
	both mode = iota
	pathOnly
	jsonataOnly
)

var (
	transitions = map[string]mode{"Next": both, "End": both}
	ioPaths     = map[string]mode{"InputPath": pathOnly, "OutputPath": pathOnly}
	results     = map[string]mode{"Parameters": pathOnly, "ResultSelector": pathOnly, "ResultPath": pathOnly, "Output": jsonataOnly, "Assign": both}
	errHandling = map[string]mode{"Retry": both, "Catch": both}
)

func fieldSet(parts ...map[string]mode) map[string]mode {
	out := map[string]mode{"Type": both, "Comment": both, "QueryLanguage": both}
	for _, p := range parts {
		for k, v := range p {
			out[k] = v
		}
	}
	return out
}

// stateFields lists the fields each state type accepts.
var stateFields = map[string]map[string]mode{
	TypePass: fieldSet(transitions, ioPaths, map[string]mode{
		"Parameters": pathOnly, "Result": pathOnly, "ResultPath": pathOnly, "Output": jsonataOnly, "Assign": both}),
	TypeTask: fieldSet(transitions, ioPaths, results, errHandling, map[string]mode{
		"Resource": both, "Arguments": jsonataOnly, "Credentials": both,
		"TimeoutSeconds": both, "TimeoutSecondsPath": pathOnly,
		"HeartbeatSeconds": both, "HeartbeatSecondsPath": pathOnly}),
	TypeChoice: fieldSet(ioPaths, map[string]mode{
		"Choices": both, "Default": both, "Assign": both, "Output": jsonataOnly}),
	TypeWait: fieldSet(transitions, ioPaths, map[string]mode{
		"Seconds": both, "Timestamp": both, "SecondsPath": pathOnly, "TimestampPath": pathOnly,
		"Assign": both, "Output": jsonataOnly}),
	TypeSucceed: fieldSet(ioPaths, map[string]mode{"Output": jsonataOnly}),
	TypeFail: fieldSet(map[string]mode{
		"Error": both, "Cause": both, "ErrorPath": pathOnly, "CausePath": pathOnly}),
	TypeParallel: fieldSet(transitions, ioPaths, results, errHandling, map[string]mode{
		"Branches": both, "Arguments": jsonataOnly}),
	TypeMap: fieldSet(transitions, ioPaths, results, errHandling, map[string]mode{
		"ItemProcessor": both, "Iterator": both, "ItemsPath": pathOnly, "Items": jsonataOnly,
		"ItemSelector": both, "ItemReader": both, "ItemBatcher": both, "ResultWriter": both,
		"MaxConcurrency": both, "MaxConcurrencyPath": pathOnly,
		"ToleratedFailureCount": both, "ToleratedFailureCountPath": pathOnly,
		"ToleratedFailurePercentage": both, "ToleratedFailurePercentagePath": pathOnly,
		"Label": both}),
}

// state builds one state; it returns the state and its outgoing transitions.
func (p *parser) state(name string, n *node, loc string, scopeQL string) (*State, []edge) {
	st := &State{Name: name, Pointer: loc, QueryLanguage: scopeQL}
	if n.kind != kObject {
		p.broken[st] = true
		p.schema(n, loc, fmt.Sprintf("Expected value of type object for state %q, got %s", name, n.kind))
		return st, nil
	}
	p.checkDuplicateKeys(n, loc)
	tn := n.get("Type")
	if tn == nil {
		p.schema(n, loc, "These fields are required: [Type]")
		p.broken[st] = true
		return st, untypedEdges(st, n, loc)
	}
	if s, ok := p.str(tn, ptr(loc, "Type"), "Type"); ok {
		if stateFields[s] == nil {
			p.schema(tn, ptr(loc, "Type"), fmt.Sprintf("Unknown state type %q: expected Pass, Task, Choice, Wait, Succeed, Fail, Parallel or Map", s))
			p.broken[st] = true
			return st, untypedEdges(st, n, loc)
		}
		st.Type = s
	} else {
		p.broken[st] = true
		return st, untypedEdges(st, n, loc)
	}
	downgraded := false
	if qn := n.get("QueryLanguage"); qn != nil {
		st.QueryLanguage = p.queryLanguage(qn, ptr(loc, "QueryLanguage"))
		if st.QueryLanguage == QueryLanguageJSONPath && p.topQL == QueryLanguageJSONata {
			// AWS reports only this for the state, not its other-language fields.
			p.schema(n, loc, "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine")
			downgraded = true
		}
	}
	ql := st.QueryLanguage
	allowed := stateFields[st.Type]
	var edges []edge
	var endNode *node

	for i, key := range n.keys {
		v, vloc := n.vals[i], ptr(loc, key)
		m, ok := allowed[key]
		if !ok {
			p.unsupported(v, loc, key)
			continue
		}
		if (m == pathOnly && ql == QueryLanguageJSONata) || (m == jsonataOnly && ql != QueryLanguageJSONata) {
			if !downgraded {
				p.modeErr(v, loc, key, ql)
			}
			continue
		}
		switch key {
		case "Type", "QueryLanguage":
		case "Comment":
			st.Comment, _ = p.str(v, vloc, key)
		case "Next":
			if s, ok := p.str(v, vloc, key); ok {
				st.Next = s
				edges = append(edges, edge{target: s, loc: vloc, n: v})
			}
		case "End":
			if b, ok := p.boolean(v, vloc, key); ok {
				st.End = b
				endNode = v
			}
		case "InputPath":
			st.InputPath = p.path(v, vloc, key, true)
		case "OutputPath":
			st.OutputPath = p.path(v, vloc, key, true)
		case "ResultPath":
			st.ResultPath = p.referencePath(v, vloc)
		case "Parameters":
			if st.Type == TypeMap {
				st.ItemSelector = p.jsonPathTemplate(v, vloc, key, false)
				st.LegacyParameters = true
			} else {
				st.Parameters = p.jsonPathTemplate(v, vloc, key, false)
			}
		case "ResultSelector":
			st.ResultSelector = p.jsonPathTemplate(v, vloc, key, false)
		case "Result":
			st.Result = Optional[any]{Set: true, Null: v.kind == kNull, Value: v.toAny()}
			if (v.kind == kString && looksDynamic(v.str)) || hasDynamicKey(v) {
				p.warn(v, vloc, CodePassResultIsStatic, "The Result of a Pass state is static: paths and intrinsic functions in it are not evaluated (use Parameters)")
			}
		case "Arguments":
			st.Arguments = p.jsonataTemplate(v, vloc, key, false)
		case "Output":
			st.Output = p.jsonataTemplate(v, vloc, key, false)
		case "Assign":
			if ql == QueryLanguageJSONata {
				st.Assign = p.jsonataTemplate(v, vloc, key, true)
			} else {
				st.Assign = p.jsonPathTemplate(v, vloc, key, true)
			}
		case "Resource":
			if s, ok := p.str(v, vloc, key); ok {
				st.Resource = s
				p.resource(v, vloc, s)
			}
		case "Credentials":
			if v.kind != kObject {
				p.typeErr(v, vloc, key, kObject)
			} else if ql == QueryLanguageJSONata {
				st.Credentials = p.jsonataTemplate(v, vloc, key, false)
			} else {
				st.Credentials = p.jsonPathTemplate(v, vloc, key, false)
			}
		case "TimeoutSeconds":
			st.TimeoutSeconds = p.jsonataOrInt(v, vloc, key, ql, 1, maxSeconds)
		case "HeartbeatSeconds":
			st.HeartbeatSeconds = p.jsonataOrInt(v, vloc, key, ql, 1, maxSeconds)
		case "TimeoutSecondsPath":
			st.TimeoutSecondsPath = p.path(v, vloc, key, false)
		case "HeartbeatSecondsPath":
			st.HeartbeatSecondsPath = p.path(v, vloc, key, false)
		case "Retry":
			st.Retry = p.retriers(v, vloc)
		case "Catch":
			var out []edge
			st.Catch, out = p.catchers(v, vloc, ql)
			edges = append(edges, out...)
		case "Choices":
			var out []edge
			st.Choices, out = p.choices(v, vloc, ql)
			edges = append(edges, out...)
		case "Default":
			if s, ok := p.str(v, vloc, key); ok {
				st.Default = s
				edges = append(edges, edge{target: s, loc: vloc, n: v})
			}
		case "Seconds":
			st.Seconds = p.jsonataOrInt(v, vloc, key, ql, 0, maxSeconds)
		case "Timestamp":
			if s, ok := p.str(v, vloc, key); ok {
				if ql == QueryLanguageJSONata {
					p.compileJSONata(v, vloc)
				}
				if !(ql == QueryLanguageJSONata && isJSONata(s)) {
					if _, err := time.Parse(time.RFC3339, s); err != nil || !strings.Contains(s, "T") {
						p.schema(v, vloc, fmt.Sprintf("The value of \"Timestamp\" must be an RFC 3339 timestamp such as 2016-03-14T01:59:00Z, got %q", s))
					}
				}
				st.Timestamp = Optional[any]{Set: true, Value: s}
			}
		case "SecondsPath":
			st.SecondsPath = p.path(v, vloc, key, false)
		case "TimestampPath":
			st.TimestampPath = p.path(v, vloc, key, false)
		case "Error", "Cause":
			o := Optional[string]{Set: true}
			if s, ok := p.str(v, vloc, key); ok {
				o.Value = s
				if ql == QueryLanguageJSONata {
					p.walkJSONata(v, vloc)
				}
				p.noPath(v, vloc, key, ql)
			}
			if key == "Error" {
				st.Error = o
			} else {
				st.Cause = o
			}
		case "ErrorPath":
			st.ErrorPath = p.pathOrIntrinsic(v, vloc, key)
		case "CausePath":
			st.CausePath = p.pathOrIntrinsic(v, vloc, key)
		case "Branches":
			st.Branches = p.branches(v, vloc)
		case "ItemProcessor", "Iterator":
			if st.ItemProcessor != nil {
				p.schema(v, vloc, "A Map state may have only one of \"ItemProcessor\" and \"Iterator\"")
				continue
			}
			st.ItemProcessor = p.definition(v, vloc, scopeProcessor)
			st.LegacyIterator = key == "Iterator"
		case "ItemsPath":
			st.ItemsPath = p.path(v, vloc, key, false)
		case "Items":
			if v.kind != kArray && !(v.kind == kString && isJSONata(v.str)) {
				p.schema(v, vloc, "The value of \"Items\" must be an array or a JSONata expression {% ... %}")
			}
			st.Items = p.jsonataTemplate(v, vloc, key, false)
		case "ItemSelector":
			if n.get("Parameters") != nil {
				p.schema(v, vloc, "A Map state may have only one of \"ItemSelector\" and \"Parameters\"")
			}
			if ql == QueryLanguageJSONata {
				st.ItemSelector = p.jsonataTemplate(v, vloc, key, false)
			} else {
				st.ItemSelector = p.jsonPathTemplate(v, vloc, key, false)
			}
		case "ItemReader", "ItemBatcher", "ResultWriter":
			o := p.mapConfig(v, vloc, key, ql)
			switch key {
			case "ItemReader":
				st.ItemReader = o
			case "ItemBatcher":
				st.ItemBatcher = o
			default:
				st.ResultWriter = o
			}
		case "MaxConcurrency":
			st.MaxConcurrency = p.jsonataOrInt(v, vloc, key, ql, 0, math.MaxInt64)
		case "MaxConcurrencyPath":
			st.MaxConcurrencyPath = p.path(v, vloc, key, false)
		case "ToleratedFailureCount":
			st.ToleratedFailureCount = p.jsonataOrInt(v, vloc, key, ql, 0, math.MaxInt64)
		case "ToleratedFailureCountPath":
			st.ToleratedFailureCountPath = p.path(v, vloc, key, false)
		case "ToleratedFailurePercentage":
			st.ToleratedFailurePercentage = p.percentage(v, vloc, ql)
		case "ToleratedFailurePercentagePath":
			st.ToleratedFailurePercentagePath = p.path(v, vloc, key, false)
		case "Label":
			st.Label, _ = p.str(v, vloc, key)
		}
	}
	p.stateRules(st, n, loc, endNode)
	return st, edges
}

// untypedEdges keeps the Next of a state whose type is unknown, so that the
// states it leads to are not also reported unreachable.
func untypedEdges(st *State, n *node, loc string) []edge {
	if v := n.get("Next"); v != nil && v.kind == kString {
		st.Next = v.str
		return []edge{{target: v.str, loc: ptr(loc, "Next"), n: v}}
	}
	return nil
}

// stateRules checks required fields and fields that exclude each other.
func (p *parser) stateRules(st *State, n *node, loc string, endNode *node) {
	allowed := stateFields[st.Type]
	if _, ok := allowed["Next"]; ok {
		hasNext, hasEnd := n.get("Next") != nil, n.get("End") != nil
		switch {
		case hasNext && st.End:
			p.schema(n, loc, "A state may not have both \"Next\" and \"End\": true")
		case !hasNext && !hasEnd:
			p.schema(n, loc, "These fields are required: [Next or End]")
			p.broken[st] = true
		case !hasNext && hasEnd && endNode == nil:
			p.broken[st] = true // End of the wrong type (reported)
		case !hasNext && endNode != nil && !st.End:
			p.broken[st] = true
			p.schema(endNode, ptr(loc, "End"), "\"End\" must be true when \"Next\" is absent")
		}
	}
	req := func(field string) {
		if n.get(field) == nil {
			p.schema(n, loc, fmt.Sprintf("These fields are required: [%s]", field))
		}
	}
	exclusive := func(a, b string) {
		if n.get(a) != nil && n.get(b) != nil {
			p.schema(n.get(a), ptr(loc, a), fmt.Sprintf("The fields '%s' and '%s' may not be used together", a, b))
		}
	}
	switch st.Type {
	case TypeTask:
		req("Resource")
		exclusive("TimeoutSeconds", "TimeoutSecondsPath")
		exclusive("HeartbeatSeconds", "HeartbeatSecondsPath")
		if t, ok := st.TimeoutSeconds.Value.(int64); ok {
			if h, ok := st.HeartbeatSeconds.Value.(int64); ok && h >= t {
				p.schema(n.get("HeartbeatSeconds"), ptr(loc, "HeartbeatSeconds"),
					fmt.Sprintf("HeartbeatSeconds (%d) must be smaller than TimeoutSeconds (%d)", h, t))
			}
		}
	case TypeChoice:
		req("Choices")
	case TypeWait:
		var set []string
		for _, f := range []string{"Seconds", "Timestamp", "SecondsPath", "TimestampPath"} {
			if n.get(f) != nil {
				set = append(set, f)
			}
		}
		if len(set) == 0 {
			p.schema(n, loc, "A Wait state needs exactly one of [Seconds, Timestamp, SecondsPath, TimestampPath]")
		} else if len(set) > 1 {
			p.schema(n, loc, fmt.Sprintf("A Wait state needs exactly one of [Seconds, Timestamp, SecondsPath, TimestampPath], got %v", set))
		}
	case TypeFail:
		exclusive("Error", "ErrorPath")
		exclusive("Cause", "CausePath")
	case TypeParallel:
		req("Branches")
	case TypeMap:
		if n.get("ItemProcessor") == nil && n.get("Iterator") == nil {
			p.schema(n, loc, "These fields are required: [ItemProcessor]")
		}
		exclusive("MaxConcurrency", "MaxConcurrencyPath")
		exclusive("ToleratedFailureCount", "ToleratedFailureCountPath")
		exclusive("ToleratedFailurePercentage", "ToleratedFailurePercentagePath")
	}
}

// resource checks a Task's Resource: a URI, and no .sync or
// .waitForTaskToken in EXPRESS state machines.
func (p *parser) resource(n *node, loc, s string) {
	if s == "" {
		p.errorAt(n, loc, CodeInvalidResource, "The Resource field must not be empty")
		return
	}
	if !p.express {
		return
	}
	switch {
	case strings.HasSuffix(s, ".waitForTaskToken"):
		p.schema(n, loc, "Express state machine does not support '.waitForTaskToken' service integration ")
	case strings.HasSuffix(s, ".sync") || strings.Contains(s, ".sync:"):
		p.schema(n, loc, "Express state machine does not support '.sync' service integration ")
	}
}

func (p *parser) percentage(n *node, loc, ql string) Optional[any] {
	if ql == QueryLanguageJSONata && n.kind == kString {
		if !isJSONata(n.str) {
			p.schema(n, loc, "The value of \"ToleratedFailurePercentage\" must be a number or a JSONata expression {% ... %}")
		}
		p.compileJSONata(n, loc)
		return Optional[any]{Set: true, Value: n.str}
	}
	if n.kind != kNumber {
		p.typeErr(n, loc, "ToleratedFailurePercentage", kNumber)
		return Optional[any]{Set: true}
	}
	if f := n.float(); f < 0 || f > 100 {
		p.schema(n, loc, fmt.Sprintf("The value of \"ToleratedFailurePercentage\" must be between 0 and 100, got %s", n.str))
		return Optional[any]{Set: true}
	}
	return Optional[any]{Set: true, Value: numberValue(n.str)}
}

func (p *parser) branches(n *node, loc string) []*Definition {
	if n.kind != kArray {
		p.typeErr(n, loc, "Branches", kArray)
		return nil
	}
	if len(n.vals) == 0 {
		p.schema(n, loc, "Branches must hold at least one branch")
	}
	out := make([]*Definition, 0, len(n.vals))
	for i, b := range n.vals {
		if d := p.definition(b, fmt.Sprintf("%s/%d", loc, i), scopeBranch); d != nil {
			out = append(out, d)
		}
	}
	return out
}

func (p *parser) retriers(n *node, loc string) []*Retrier {
	if n.kind != kArray {
		p.typeErr(n, loc, "Retry", kArray)
		return nil
	}
	var out []*Retrier
	for i, rn := range n.vals {
		rloc := fmt.Sprintf("%s/%d", loc, i)
		if rn.kind != kObject {
			p.typeErr(rn, rloc, "Retry", kObject)
			continue
		}
		p.checkDuplicateKeys(rn, rloc)
		r := &Retrier{Pointer: rloc}
		if rn.get("ErrorEquals") == nil {
			p.schema(rn, rloc, "These fields are required: [ErrorEquals]")
		}
		for j, key := range rn.keys {
			v, vloc := rn.vals[j], ptr(rloc, key)
			switch key {
			case "ErrorEquals":
				var all bool
				r.ErrorEquals, all = p.errorEquals(v, vloc)
				if all && i != len(n.vals)-1 {
					p.schema(v, vloc, "A retrier with States.ALL must be the last retrier")
				}
			case "IntervalSeconds":
				if x, ok := p.intRange(v, vloc, key, 1, maxSeconds); ok {
					r.IntervalSeconds = Optional[int64]{Set: true, Value: x}
				}
			case "MaxAttempts":
				if x, ok := p.intRange(v, vloc, key, 0, maxSeconds); ok {
					r.MaxAttempts = Optional[int64]{Set: true, Value: x}
				}
			case "MaxDelaySeconds":
				if x, ok := p.intRange(v, vloc, key, 1, maxSeconds); ok {
					r.MaxDelaySeconds = Optional[int64]{Set: true, Value: x}
				}
			case "BackoffRate":
				if v.kind != kNumber {
					p.typeErr(v, vloc, key, kNumber)
				} else if f := v.float(); f < 1.0 {
					p.schema(v, vloc, fmt.Sprintf("The value of \"BackoffRate\" must be at least 1.0, got %s", v.str))
				} else {
					r.BackoffRate = Optional[float64]{Set: true, Value: f}
				}
			case "JitterStrategy":
				if s, ok := p.str(v, vloc, key); ok {
					if s != "FULL" && s != "NONE" {
						p.schema(v, vloc, fmt.Sprintf("JitterStrategy must be FULL or NONE, got %q", s))
					} else {
						r.JitterStrategy = s
					}
				}
			case "Comment":
				r.Comment, _ = p.str(v, vloc, key)
			default:
				p.unsupported(v, rloc, key)
			}
		}
		out = append(out, r)
	}
	return out
}

func (p *parser) catchers(n *node, loc, ql string) ([]*Catcher, []edge) {
	if n.kind != kArray {
		p.typeErr(n, loc, "Catch", kArray)
		return nil, nil
	}
	var out []*Catcher
	var edges []edge
	for i, cn := range n.vals {
		cloc := fmt.Sprintf("%s/%d", loc, i)
		if cn.kind != kObject {
			p.typeErr(cn, cloc, "Catch", kObject)
			continue
		}
		p.checkDuplicateKeys(cn, cloc)
		c := &Catcher{Pointer: cloc}
		p.required(cn, cloc, "ErrorEquals", "Next")
		for j, key := range cn.keys {
			v, vloc := cn.vals[j], ptr(cloc, key)
			switch key {
			case "ErrorEquals":
				var all bool
				c.ErrorEquals, all = p.errorEquals(v, vloc)
				if all && i != len(n.vals)-1 {
					p.schema(v, vloc, "A catcher with States.ALL must be the last catcher")
				}
			case "Next":
				if s, ok := p.str(v, vloc, key); ok {
					c.Next = s
					edges = append(edges, edge{target: s, loc: vloc, n: v})
				}
			case "ResultPath":
				if ql == QueryLanguageJSONata {
					p.modeErr(v, cloc, key, ql)
				} else {
					c.ResultPath = p.referencePath(v, vloc)
				}
			case "Output":
				if ql != QueryLanguageJSONata {
					p.modeErr(v, cloc, key, ql)
				} else {
					p.inCatch = true
					c.Output = p.jsonataTemplate(v, vloc, key, false)
					p.inCatch = false
				}
			case "Assign":
				if ql == QueryLanguageJSONata {
					p.inCatch = true
					c.Assign = p.jsonataTemplate(v, vloc, key, true)
					p.inCatch = false
				} else {
					c.Assign = p.jsonPathTemplate(v, vloc, key, true)
				}
			case "Comment":
				c.Comment, _ = p.str(v, vloc, key)
			default:
				p.unsupported(v, cloc, key)
			}
		}
		out = append(out, c)
	}
	return out, edges
}

// mapConfigFields lists the fields of a Map's ItemReader, ItemBatcher and
// ResultWriter objects.
var mapConfigFields = map[string]map[string]mode{
	"ItemReader": {"Resource": both, "ReaderConfig": both, "Parameters": pathOnly, "Arguments": jsonataOnly},
	"ItemBatcher": {"MaxItemsPerBatch": both, "MaxItemsPerBatchPath": pathOnly,
		"MaxInputBytesPerBatch": both, "MaxInputBytesPerBatchPath": pathOnly, "BatchInput": both},
	"ResultWriter": {"Resource": both, "WriterConfig": both, "Parameters": pathOnly, "Arguments": jsonataOnly},
}

// maxBatchBytes is AWS's limit on MaxInputBytesPerBatch (256 KiB).
const maxBatchBytes = 262144

// mapConfig checks an ItemReader, ItemBatcher or ResultWriter object and
// returns it as a value (the engine interprets it).
func (p *parser) mapConfig(n *node, loc, field, ql string) Optional[any] {
	if n.kind != kObject {
		p.typeErr(n, loc, field, kObject)
		return Optional[any]{Set: true}
	}
	p.checkDuplicateKeys(n, loc)
	allowed := mapConfigFields[field]
	for i, key := range n.keys {
		v, vloc := n.vals[i], ptr(loc, key)
		m, ok := allowed[key]
		if !ok {
			p.unsupported(v, loc, key)
			continue
		}
		if (m == pathOnly && ql == QueryLanguageJSONata) || (m == jsonataOnly && ql != QueryLanguageJSONata) {
			p.modeErr(v, loc, key, ql)
			continue
		}
		switch key {
		case "Resource":
			p.str(v, vloc, key)
		case "ReaderConfig", "WriterConfig":
			if v.kind != kObject {
				p.typeErr(v, vloc, key, kObject)
			} else if ql == QueryLanguageJSONata {
				p.walkJSONata(v, vloc)
			} else {
				p.walkTemplate(v, vloc)
			}
		case "Parameters":
			p.jsonPathTemplate(v, vloc, key, false)
		case "Arguments":
			p.jsonataTemplate(v, vloc, key, false)
		case "BatchInput":
			if ql == QueryLanguageJSONata {
				p.jsonataTemplate(v, vloc, key, false)
			} else {
				p.jsonPathTemplate(v, vloc, key, false)
			}
		case "MaxItemsPerBatch":
			p.jsonataOrInt(v, vloc, key, ql, 0, math.MaxInt64)
		case "MaxInputBytesPerBatch":
			p.jsonataOrInt(v, vloc, key, ql, 0, maxBatchBytes)
		case "MaxItemsPerBatchPath", "MaxInputBytesPerBatchPath":
			p.path(v, vloc, key, false)
		}
	}
	return Optional[any]{Set: true, Value: n.toAny()}
}
