package engine

// The JSONata-mode data flow of each state type (query.go compiles the
// expressions and evaluates them).

import (
	"fmt"
	"time"

	"github.com/kstates/kstates/internal/engine/value"
)

// enterJSONata runs a JSONata state.
func (ex *Execution) enterJSONata(t *Thread) {
	switch t.cs.kind {
	case kPass, kSucceed:
		sc := ex.jscope(t, t.Input.V)
		ex.jfinish(t, sc, t.Input.V, nil)
	case kTask:
		ex.jTask(t)
	case kChoice:
		ex.jChoice(t)
	case kWait:
		ex.jWait(t)
	case kFail:
		ex.jFail(t)
	case kParallel:
		ex.jParallel(t)
	case kMap:
		ex.jMap(t)
	}
}

// jfinish evaluates Assign and Output (both see the variables as they were
// before the state; a missing Output keeps out), then stores the
// variables and leaves the state for next (nil: the state's Next).
func (ex *Execution) jfinish(t *Thread, sc *jscope, out any, next *cstate) {
	cs := t.cs
	assigned, out, f := ex.jassignOutput(sc, cs.jassign, cs.joutput, out)
	if f != nil {
		ex.fail(t, f)
		return
	}
	ex.commitVars(t, assigned)
	ex.exit(t, out, assigned, next)
}

// jassignOutput evaluates an Assign and an Output (either may be nil).
func (ex *Execution) jassignOutput(sc *jscope, assign, output *jnode, out any) (map[string]any, any, *failure) {
	var assigned map[string]any
	if assign != nil {
		v, f := sc.eval(assign, "Assign")
		if f != nil {
			return nil, nil, f
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, nil, sc.typeFailure(assign, "Assign", "object", v)
		}
		if len(m) > 0 {
			assigned = m
		}
	}
	if output != nil {
		v, f := sc.eval(output, "Output")
		if f != nil {
			return nil, nil, f
		}
		out = v
	}
	return assigned, out, nil
}

// commitVars stores assigned variables in t's scope.
func (ex *Execution) commitVars(t *Thread, assigned map[string]any) {
	if len(assigned) == 0 {
		return
	}
	if t.Vars == nil {
		t.Vars = make(Vars, len(assigned))
	}
	for k, x := range assigned {
		t.Vars[k] = x
	}
}

// jcomplete finishes a Task, Parallel or Map state with its result:
// $states.result is bound for Output and Assign, and the result is the
// default output.
func (ex *Execution) jcomplete(t *Thread, result any) {
	sc := ex.jscope(t, t.Input.V).with("result", result)
	ex.jfinish(t, sc, result, nil)
}

// jcatch applies a JSONata catcher: $states.errorOutput is bound, and it
// is the default output.
func (ex *Execution) jcatch(t *Thread, c *ccatcher, errOut map[string]any) {
	sc := ex.jscope(t, t.Input.V).with("errorOutput", errOut)
	assigned, out, f := ex.jassignOutput(sc, c.jassign, c.joutput, errOut)
	if f != nil {
		ex.threadFailed(t, f.name, f.cause)
		return
	}
	if c.next == nil {
		ex.threadFailed(t, ErrRuntime, "catcher has no Next state")
		return
	}
	ex.commitVars(t, assigned)
	ex.exit(t, out, assigned, c.next)
}

func (ex *Execution) jTask(t *Thread) {
	cs := t.cs
	if cs.waitToken {
		ex.TokenSeq++
		t.TaskToken = ex.uuid()
	}
	sc := ex.jscope(t, t.Input.V)
	eff := t.Input.V
	var f *failure
	if cs.jargs != nil {
		if eff, f = sc.eval(cs.jargs, "Arguments"); f != nil {
			ex.fail(t, f)
			return
		}
	}
	var timeout, heartbeat int64
	if cs.jtimeout != nil {
		if timeout, f = sc.evalInt(cs.jtimeout, "TimeoutSeconds", 1); f != nil {
			ex.fail(t, f)
			return
		}
	}
	if cs.jheartbeat != nil {
		if heartbeat, f = sc.evalInt(cs.jheartbeat, "HeartbeatSeconds", 1); f != nil {
			ex.fail(t, f)
			return
		}
	}
	ex.startTask(t, eff, timeout, heartbeat)
}

func (ex *Execution) jChoice(t *Thread) {
	cs := t.cs
	sc := ex.jscope(t, t.Input.V)
	for _, c := range cs.jchoices {
		const field = "Condition"
		v, f := sc.eval(c.cond, field)
		if f != nil {
			ex.fail(t, f)
			return
		}
		b, ok := v.(bool)
		if !ok {
			ex.fail(t, sc.typeFailure(c.cond, field, "boolean", v))
			return
		}
		if b {
			ex.jchoose(t, sc, c)
			return
		}
	}
	if cs.deflt == nil {
		ex.fail(t, &failure{ErrNoChoiceMatched, fmt.Sprintf("No Matches! (state '%s')", t.State)})
		return
	}
	ex.jfinish(t, sc, t.Input.V, cs.deflt)
}

// jchoose leaves a Choice state through the rule c. As AWS documents, the
// state's Assign applies whichever rule matches, and the rule's own Assign
// on top of it; the rule's Output, else the state's, else the input is the
// output.
func (ex *Execution) jchoose(t *Thread, sc *jscope, c *jchoice) {
	cs := t.cs
	assigned, _, f := ex.jassignOutput(sc, cs.jassign, nil, nil)
	if f != nil {
		ex.fail(t, f)
		return
	}
	output := c.output
	if output == nil {
		output = cs.joutput
	}
	ruleAssigned, out, f := ex.jassignOutput(sc, c.assign, output, t.Input.V)
	if f != nil {
		ex.fail(t, f)
		return
	}
	if len(ruleAssigned) > 0 {
		merged := make(map[string]any, len(assigned)+len(ruleAssigned))
		for k, v := range assigned {
			merged[k] = v
		}
		for k, v := range ruleAssigned {
			merged[k] = v
		}
		assigned = merged
	}
	ex.commitVars(t, assigned)
	ex.exit(t, out, assigned, c.next)
}

func (ex *Execution) jWait(t *Thread) {
	cs := t.cs
	sc := ex.jscope(t, t.Input.V)
	var until time.Time
	switch {
	case cs.jseconds != nil:
		n, f := sc.evalInt(cs.jseconds, "Seconds", 0)
		if f != nil {
			ex.fail(t, f)
			return
		}
		until = ex.now.Add(time.Duration(n) * time.Second)
	case cs.jtimestamp != nil:
		s, f := sc.evalString(cs.jtimestamp, "Timestamp")
		if f != nil {
			ex.fail(t, f)
			return
		}
		ts, err := parseTimestamp(s)
		if err != nil {
			ex.fail(t, sc.queryFailure("Timestamp", fmt.Sprintf("The value of the field 'Timestamp' is not a valid ISO-8601 extended offset date-time format string: %s", s)))
			return
		}
		until = ts
	}
	assigned, out, f := ex.jassignOutput(sc, cs.jassign, cs.joutput, t.Input.V)
	if f != nil {
		ex.fail(t, f)
		return
	}
	ex.commitVars(t, assigned)
	t.Effective = Value{out}
	if !until.After(ex.now) {
		ex.waitDone(t)
		return
	}
	t.Phase, t.Deadline = PhaseWait, until
}

func (ex *Execution) jFail(t *Thread) {
	cs := t.cs
	sc := ex.jscope(t, t.Input.V)
	var name, cause string
	var f *failure
	if cs.jerror != nil {
		if name, f = sc.evalString(cs.jerror, "Error"); f != nil {
			ex.threadFailed(t, f.name, f.cause)
			return
		}
	}
	if cs.jcause != nil {
		if cause, f = sc.evalString(cs.jcause, "Cause"); f != nil {
			ex.threadFailed(t, f.name, f.cause)
			return
		}
	}
	ex.threadFailed(t, name, cause)
}

func (ex *Execution) jParallel(t *Thread) {
	cs := t.cs
	eff := t.Input.V
	if cs.jargs != nil {
		var f *failure
		if eff, f = ex.jscope(t, t.Input.V).eval(cs.jargs, "Arguments"); f != nil {
			ex.fail(t, f)
			return
		}
	}
	ex.startParallel(t, eff)
}

func (ex *Execution) jMap(t *Thread) {
	cs := t.cs
	if cs.unsupportedReader != "" || cs.unsupportedWriter != "" || cs.proc == nil || cs.proc.start == nil {
		ex.execMap(t) // the same failures as in JSONPath mode
		return
	}
	sc := ex.jscope(t, t.Input.V)
	itemsV := t.Input.V
	if cs.jitems != nil {
		v, f := sc.eval(cs.jitems, "Items")
		if f != nil {
			ex.failMap(t, f)
			return
		}
		if _, ok := v.([]any); !ok {
			ex.failMap(t, sc.typeFailure(cs.jitems, "Items", "array", v))
			return
		}
		itemsV = v
	}
	items, ok := itemsV.([]any)
	if !ok {
		ex.failMap(t, sc.queryFailure("", "Map state input must be an array but was: "+value.MarshalString(itemsV)))
		return
	}
	var maxConc int64
	var f *failure
	if cs.jmaxConc != nil {
		if maxConc, f = sc.evalInt(cs.jmaxConc, "MaxConcurrency", 0); f != nil {
			ex.failMap(t, f)
			return
		}
	}
	tolCount, tolPct := int64(-1), float64(-1)
	if cs.jtolCount != nil {
		if tolCount, f = sc.evalInt(cs.jtolCount, "ToleratedFailureCount", 0); f != nil {
			ex.failMap(t, f)
			return
		}
	}
	if cs.jtolPct != nil {
		v, f := sc.eval(cs.jtolPct, "ToleratedFailurePercentage")
		if f != nil {
			ex.failMap(t, f)
			return
		}
		p, ok := floatOf(v)
		if !ok {
			ex.failMap(t, sc.typeFailure(cs.jtolPct, "ToleratedFailurePercentage", "number", v))
			return
		}
		if p < 0 || p > 100 {
			ex.failMap(t, sc.queryFailure("ToleratedFailurePercentage", "ToleratedFailurePercentage must be between 0 and 100."))
			return
		}
		tolPct = p
	}
	inputs := items
	if cs.jitemSelector != nil {
		inputs = make([]any, len(items))
		var base map[string]any
		if cs.needsCtx {
			base = sc.preparedContext()
		}
		for i, it := range items {
			isc := sc.with("context", mapContext(base, i, it))
			v, f := isc.eval(cs.jitemSelector, "ItemSelector")
			if f != nil {
				ex.failMap(t, f)
				return
			}
			inputs[i] = v
		}
	}
	if cs.hasBatcher {
		b, f := ex.jbatch(sc, inputs)
		if f != nil {
			ex.failMap(t, f)
			return
		}
		inputs = b
	}
	ex.startMap(t, inputs, maxConc, tolCount, tolPct)
}

// failMap fails a JSONata Map state before its iterations start; AWS
// records MapStateFailed (unless the state is retried).
func (ex *Execution) failMap(t *Thread, f *failure) { ex.failWith(t, f, "MapStateFailed") }

// jbatch groups item inputs per a JSONata ItemBatcher.
func (ex *Execution) jbatch(sc *jscope, items []any) ([]any, *failure) {
	cs := sc.t.cs
	var maxItems, maxBytes int64
	var f *failure
	if cs.jbatchMax != nil {
		if maxItems, f = sc.evalInt(cs.jbatchMax, "ItemBatcher/MaxItemsPerBatch", 0); f != nil {
			return nil, f
		}
	}
	if cs.jbatchBytes != nil {
		if maxBytes, f = sc.evalInt(cs.jbatchBytes, "ItemBatcher/MaxInputBytesPerBatch", 0); f != nil {
			return nil, f
		}
	}
	var batchInput any
	hasInput := cs.jbatchInput != nil
	if hasInput {
		if batchInput, f = sc.eval(cs.jbatchInput, "ItemBatcher/BatchInput"); f != nil {
			return nil, f
		}
	}
	return groupBatches(items, maxItems, maxBytes, batchInput, hasInput), nil
}
