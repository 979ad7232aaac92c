package engine

// JSONata mode: states whose effective QueryLanguage is JSONata. Every
// {% %} expression of such a state is compiled once by Compile into a
// jnode tree; evaluation binds $states (input, context, result,
// errorOutput as AWS makes them available) and the workflow variables, and
// registers AWS's functions ($partition, $range, $hash, $random, $uuid,
// $parse). Failures are States.QueryEvaluationError with AWS's causes.

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kstates/kstates/internal/engine/asl"
	"github.com/kstates/kstates/internal/engine/awsjsonata"
	"github.com/kstates/kstates/internal/engine/jsonata"
	"github.com/kstates/kstates/internal/engine/value"
)

// ErrQueryEvaluation is raised when a JSONata expression fails, returns
// nothing, or returns a value of the wrong type.
const ErrQueryEvaluation = "States.QueryEvaluationError"

// JSONata evaluation limits: a runaway expression ends with U1001 and so
// with States.QueryEvaluationError.
const (
	jsonataTimeout  = 10 * time.Second
	jsonataMaxDepth = 2000
)

// The limit options, shared by every evaluation.
var (
	jsonataLimits = jsonata.WithTimeout(jsonataTimeout)
	jsonataDepth  = jsonata.WithMaxDepth(jsonataMaxDepth)
)

// jnode is a compiled JSONata-mode value: a literal, a {% %} expression, or
// an object or array holding expressions somewhere.
type jnode struct {
	lit   any // a literal (no expression inside)
	src   string
	expr  *jsonata.Expr
	keys  []string // object
	vals  []*jnode // object values or array items
	isObj bool
	isArr bool
	// rel is the node's path below the field it belongs to ("/a/0"), so
	// that a failure names "Output/a/0" without paths built on every
	// evaluation.
	rel string
}

// jsonataSource returns the expression of a string that is entirely
// "{% expression %}".
func jsonataSource(s string) (string, bool) {
	t := strings.TrimSpace(s)
	if len(t) >= 4 && strings.HasPrefix(t, "{%") && strings.HasSuffix(t, "%}") {
		return strings.TrimSpace(t[2 : len(t)-2]), true
	}
	return "", false
}

// compileJ compiles a JSONata-mode template; nil for an absent field.
func compileJ(o asl.Optional[any], ptr string, ce *compileErr) *jnode {
	if !o.Set {
		return nil
	}
	if o.Null {
		return &jnode{}
	}
	n := compileJValue(o.Value, ptr, ce, 0)
	n.setRel("")
	return n
}

// setRel records each node's path below the template's field.
func (n *jnode) setRel(rel string) {
	n.rel = rel
	for i, c := range n.vals {
		if n.isObj {
			c.setRel(rel + "/" + n.keys[i])
		} else {
			c.setRel(fmt.Sprintf("%s/%d", rel, i))
		}
	}
}

func compileJValue(v any, ptr string, ce *compileErr, depth int) *jnode {
	if depth > 200 {
		ce.add(ptr, "the value nests too deeply")
		return &jnode{}
	}
	switch t := v.(type) {
	case string:
		src, ok := jsonataSource(t)
		if !ok {
			return &jnode{lit: t}
		}
		e, err := jsonata.Compile(src)
		if err != nil {
			ce.add(ptr, "%s", jsonataCompileMessage(src, err))
			return &jnode{lit: t}
		}
		return &jnode{src: src, expr: e}
	case map[string]any:
		n := &jnode{isObj: true}
		dynamic := false
		for _, k := range slices.Sorted(maps.Keys(t)) {
			c := compileJValue(t[k], ptr+"/"+escapePointer(k), ce, depth+1)
			dynamic = dynamic || !c.literal()
			n.keys, n.vals = append(n.keys, k), append(n.vals, c)
		}
		if !dynamic {
			return &jnode{lit: v}
		}
		return n
	case []any:
		n := &jnode{isArr: true}
		dynamic := false
		for i, x := range t {
			c := compileJValue(x, fmt.Sprintf("%s/%d", ptr, i), ce, depth+1)
			dynamic = dynamic || !c.literal()
			n.vals = append(n.vals, c)
		}
		if !dynamic {
			return &jnode{lit: v}
		}
		return n
	}
	return &jnode{lit: v}
}

// jsonataCompileMessage describes a syntax error with its JSONata code.
func jsonataCompileMessage(src string, err error) string {
	var je *jsonata.Error
	if errors.As(err, &je) {
		return fmt.Sprintf("the JSONata expression '%s' is invalid: %s", src, je.Error())
	}
	return fmt.Sprintf("the JSONata expression '%s' is invalid: %v", src, err)
}

func (n *jnode) literal() bool { return n.expr == nil && !n.isObj && !n.isArr }

// sources appends the expressions of n.
func (n *jnode) sources(out []string) []string {
	if n == nil {
		return out
	}
	if n.expr != nil {
		out = append(out, n.src)
	}
	for _, c := range n.vals {
		out = c.sources(out)
	}
	return out
}

// readsContext reports whether an expression may read $states.context (or
// $states as a whole).
func readsContext(srcs []string) bool {
	for _, s := range srcs {
		for _, f := range []string{"$states.input", "$states.result", "$states.errorOutput"} {
			s = strings.ReplaceAll(s, f, "")
		}
		if strings.Contains(s, "$states") {
			return true
		}
	}
	return false
}

func escapePointer(k string) string {
	return strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
}

// jscope is the evaluation environment of one JSONata state: $states and
// the variables in scope. The bindings are built on the first evaluation,
// so a state without expressions costs nothing; values are converted for
// JSONata once per state (jshared) and shared by the scopes derived with
// with (one per Map item in ItemSelector).
type jscope struct {
	ex    *Execution
	t     *Thread
	sh    *jshared
	extra map[string]any // $states members beyond input and context
	bind  map[string]any
	opts  []jsonata.Option
	optv  [5]jsonata.Option // opts' storage
}

// jshared holds what every scope of one state evaluation shares.
type jshared struct {
	input    any
	pin      *jsonata.Prepared
	ctx      any // the context object, converted (nil until needed)
	ctxBuilt bool
}

// jscope makes the scope of t's state over its input.
func (ex *Execution) jscope(t *Thread, input any) *jscope {
	if ex.jfuncs == nil {
		ex.jfuncs = jsonata.WithFunctions(awsjsonata.NewFunctions(awsjsonata.Env{UUID: ex.uuid, Int63n: ex.int63n}))
	}
	return &jscope{ex: ex, t: t, sh: &jshared{input: input}}
}

// with returns a scope whose $states also holds key (result, errorOutput)
// or replaces it (context, for a Map item).
func (s *jscope) with(key string, v any) *jscope {
	c := &jscope{ex: s.ex, t: s.t, sh: s.sh, extra: make(map[string]any, len(s.extra)+1)}
	for k, x := range s.extra {
		c.extra[k] = x
	}
	c.extra[key] = v
	return c
}

// preparedContext is the context object with each member converted for
// JSONata once (Execution.Input may be large).
func (s *jscope) preparedContext() map[string]any {
	if !s.sh.ctxBuilt {
		s.sh.ctxBuilt = true
		s.sh.ctx = prepareMembers(s.ex.contextObject(s.t))
	}
	m, _ := s.sh.ctx.(map[string]any)
	return m
}

func prepareMembers(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = jsonata.Prepare(v)
	}
	return out
}

// bindings builds $states and the variables on first use.
func (s *jscope) bindings() map[string]any {
	if s.bind != nil {
		return s.bind
	}
	ex, t := s.ex, s.t
	if s.sh.pin == nil {
		s.sh.pin = jsonata.Prepare(s.sh.input)
	}
	states := map[string]any{"input": s.sh.pin}
	if _, ok := s.extra["context"]; !ok && t.cs != nil && t.cs.needsCtx {
		states["context"] = s.preparedContext()
	}
	for k, v := range s.extra {
		states[k] = jsonata.Prepare(v)
	}
	s.bind = map[string]any{}
	if t.cs != nil {
		// Only the variables the state's expressions name are bound (a
		// JSONata variable is always written $name), each converted once.
		for _, name := range t.cs.jvarRefs {
			if v, ok := t.Lookup(name); ok {
				s.bind[name] = jsonata.Prepare(v)
			}
		}
	}
	s.bind["states"] = states
	// The bindings are converted once and shared by the state's
	// evaluations; AWS's functions are a set built once per execution, so
	// registering them costs an evaluation nothing.
	if ex.jnow == nil || !ex.jnowAt.Equal(ex.now) {
		ex.jnow, ex.jnowAt = jsonata.WithNow(ex.now), ex.now
	}
	s.optv = [5]jsonata.Option{jsonataLimits, jsonataDepth, ex.jnow, ex.jfuncs, jsonata.WithBindings(jsonata.NewBindings(s.bind))}
	s.opts = s.optv[:]
	return s.bind
}

// eval evaluates n; field names it in causes ("Output", "Assign/x").
func (s *jscope) eval(n *jnode, field string) (any, *failure) {
	switch {
	case n.expr != nil:
		return s.evalExpr(n, field)
	case n.isObj:
		m := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			v, f := s.eval(n.vals[i], field)
			if f != nil {
				return nil, f
			}
			m[k] = v
		}
		return m, nil
	case n.isArr:
		a := make([]any, len(n.vals))
		for i, c := range n.vals {
			v, f := s.eval(c, field)
			if f != nil {
				return nil, f
			}
			a[i] = v
		}
		return a, nil
	}
	switch n.lit.(type) {
	case map[string]any, []any:
		return value.Copy(n.lit), nil
	}
	return n.lit, nil
}

func (s *jscope) evalExpr(n *jnode, field string) (any, *failure) {
	field += n.rel // only the failure messages use field
	s.bindings()
	r, err := n.expr.Evaluate(jsonata.Undefined, nil, s.opts...)
	if err != nil {
		msg := err.Error()
		var je *jsonata.Error
		if errors.As(err, &je) {
			msg = je.Code + ": " + je.Message
		}
		return nil, s.queryFailure(field, fmt.Sprintf("The JSONata expression '%s' specified for the field '%s' threw an error during evaluation. %s", n.src, field, msg))
	}
	if jsonata.IsUndefined(r) {
		return nil, s.queryFailure(field, fmt.Sprintf("The JSONata expression '%s' specified for the field '%s' returned nothing (undefined).", n.src, field))
	}
	return awsjsonata.Value(r), nil
}

// queryFailure records an EvaluationFailed event and returns the
// States.QueryEvaluationError; location is the field, or "".
func (s *jscope) queryFailure(location, msg string) *failure {
	ex, t := s.ex, s.t
	f := &failure{ErrQueryEvaluation, ex.causePrefix(t) + msg}
	if t.LastEventID == t.EnteredEventID {
		// Nothing happened since the state was entered: AWS links the
		// event to the one before the entered event.
		t.LastEventID = t.enteredPrev
	}
	ex.emit(t, "EvaluationFailed", &EvaluationFailedDetails{Error: f.name, Cause: f.cause, Location: location, State: t.State})
	return f
}

// typeFailure reports a value of the wrong type for a field.
func (s *jscope) typeFailure(n *jnode, field, want string, v any) *failure {
	if n.expr == nil {
		return s.queryFailure(field, fmt.Sprintf("The value of the field '%s' has an unexpected type. Expected '%s', but was '%s' for value: %s", field, want, value.TypeName(v), value.MarshalString(v)))
	}
	return s.queryFailure(field, fmt.Sprintf("The JSONata expression '%s' specified for the field '%s' returned an unexpected result type. Expected '%s', but was '%s' for value: %s", n.src, field, want, value.TypeName(v), value.MarshalString(v)))
}

// evalInt evaluates an integer field (TimeoutSeconds, MaxConcurrency...):
// a literal or an expression whose value must be an integer >= lo.
func (s *jscope) evalInt(n *jnode, field string, lo int64) (int64, *failure) {
	v, f := s.eval(n, field)
	if f != nil {
		return 0, f
	}
	i, ok := intOf(v)
	if !ok {
		return 0, s.typeFailure(n, field, "integer", v)
	}
	if i < lo {
		return 0, s.queryFailure(field, fmt.Sprintf("The value of the field '%s' must be at least %d, but was %d", field, lo, i))
	}
	return i, nil
}

// evalString evaluates a string field (Fail Error and Cause, Wait
// Timestamp).
func (s *jscope) evalString(n *jnode, field string) (string, *failure) {
	v, f := s.eval(n, field)
	if f != nil {
		return "", f
	}
	str, ok := v.(string)
	if !ok {
		return "", s.typeFailure(n, field, "string", v)
	}
	return str, nil
}

// jchoice is a compiled JSONata Choice rule.
type jchoice struct {
	cond   *jnode
	next   *cstate
	assign *jnode
	output *jnode
}

// compileJSONataState compiles the fields of a JSONata state.
func compileJSONataState(d *cdef, cs *cstate, ce *compileErr, depth int) {
	s, p := cs.s, cs.s.Pointer
	var srcs []string
	j := func(o asl.Optional[any], field string) *jnode {
		n := compileJ(o, p+"/"+field, ce)
		srcs = n.sources(srcs)
		return n
	}
	cs.jargs = j(s.Arguments, "Arguments")
	cs.joutput = j(s.Output, "Output")
	cs.jassign = j(s.Assign, "Assign")
	compileRetriers(cs)
	for i, c := range s.Catch {
		if c == nil {
			continue
		}
		cp := fmt.Sprintf("%s/Catch/%d", p, i)
		cc := &ccatcher{c: c, errors: c.ErrorEquals, next: d.target(c.Next, cp+"/Next", ce)}
		cc.joutput = compileJ(c.Output, cp+"/Output", ce)
		cc.jassign = compileJ(c.Assign, cp+"/Assign", ce)
		srcs = cc.jassign.sources(cc.joutput.sources(srcs))
		cs.catchers = append(cs.catchers, cc)
	}
	switch cs.kind {
	case kTask:
		cs.resource = s.Resource
		cs.waitToken = strings.HasSuffix(s.Resource, ".waitForTaskToken")
		cs.jtimeout = j(s.TimeoutSeconds, "TimeoutSeconds")
		cs.jheartbeat = j(s.HeartbeatSeconds, "HeartbeatSeconds")
		j(s.Credentials, "Credentials")
	case kChoice:
		for i, r := range s.Choices {
			if r == nil {
				continue
			}
			rp := fmt.Sprintf("%s/Choices/%d", p, i)
			jc := &jchoice{next: d.target(r.Next, rp+"/Next", ce)}
			if !r.Condition.Has() {
				ce.add(rp, "a JSONata Choice rule needs a Condition")
			}
			jc.cond = j(r.Condition, fmt.Sprintf("Choices/%d/Condition", i))
			jc.assign = j(r.Assign, fmt.Sprintf("Choices/%d/Assign", i))
			jc.output = j(r.Output, fmt.Sprintf("Choices/%d/Output", i))
			cs.jchoices = append(cs.jchoices, jc)
		}
		if s.Default != "" {
			cs.deflt = d.target(s.Default, p+"/Default", ce)
		}
	case kWait:
		cs.jseconds = j(s.Seconds, "Seconds")
		cs.jtimestamp = j(s.Timestamp, "Timestamp")
	case kFail:
		cs.jerror = j(optString(s.Error), "Error")
		cs.jcause = j(optString(s.Cause), "Cause")
	case kParallel:
		cs.branches = compileBranches(s.Branches, p, ce, depth)
	case kMap:
		if s.ItemProcessor == nil {
			ce.add(p, "a Map state needs an ItemProcessor (or Iterator)")
		} else {
			cs.proc = compileDef(s.ItemProcessor, ce, depth+1)
			if pc := s.ItemProcessor.ProcessorConfig; pc != nil && pc.Mode == "DISTRIBUTED" {
				cs.distributed = true
			}
		}
		cs.label = s.Label
		cs.jitems = j(s.Items, "Items")
		cs.jitemSelector = j(s.ItemSelector, "ItemSelector")
		cs.jmaxConc = j(s.MaxConcurrency, "MaxConcurrency")
		cs.jtolCount = j(s.ToleratedFailureCount, "ToleratedFailureCount")
		cs.jtolPct = j(s.ToleratedFailurePercentage, "ToleratedFailurePercentage")
		if s.ItemBatcher.Has() {
			cs.hasBatcher = true
			b, ok := s.ItemBatcher.Value.(map[string]any)
			if !ok {
				ce.add(p+"/ItemBatcher", "must be an object")
				break
			}
			for _, k := range []string{"MaxItemsPerBatch", "MaxInputBytesPerBatch", "BatchInput"} {
				if v, ok := b[k]; ok {
					n := j(asl.Optional[any]{Set: true, Value: v}, "ItemBatcher/"+k)
					switch k {
					case "MaxItemsPerBatch":
						cs.jbatchMax = n
					case "MaxInputBytesPerBatch":
						cs.jbatchBytes = n
					default:
						cs.jbatchInput = n
					}
				}
			}
		}
		if s.ItemReader.Set {
			cs.unsupportedReader = "ItemReader"
		}
		if s.ResultWriter.Set {
			cs.unsupportedWriter = "ResultWriter"
		}
	}
	cs.needsCtx = readsContext(srcs)
	cs.jvarRefs = variableRefs(srcs) // variables and function names alike
}

var varRefRe = regexp.MustCompile(`\$[A-Za-z_][A-Za-z0-9_]*`)

// variableRefs lists the $names the expressions mention (but $states).
func variableRefs(srcs []string) []string {
	seen := map[string]bool{"states": true}
	var out []string
	for _, src := range srcs {
		for _, m := range varRefRe.FindAllString(src, -1) {
			if name := m[1:]; !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	sort.Strings(out)
	return out
}

func optString(o asl.Optional[string]) asl.Optional[any] {
	return asl.Optional[any]{Set: o.Set, Null: o.Null, Value: o.Value}
}
