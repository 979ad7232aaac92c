package engine

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/kstates/kstates/internal/engine/value"
)

var typeNames = [...]string{kPass: "Pass", kTask: "Task", kChoice: "Choice", kWait: "Wait", kSucceed: "Succeed", kFail: "Fail", kParallel: "Parallel", kMap: "Map"}

// Precomputed event type names per state kind.
var (
	enteredType [8]string
	exitedType  [8]string
)

func init() {
	for i, n := range typeNames {
		enteredType[i] = n + "StateEntered"
		exitedType[i] = n + "StateExited"
	}
}

// makeReady queues t to enter its current state.
func (ex *Execution) makeReady(t *Thread) {
	t.Phase = PhaseReady
	ex.ready = append(ex.ready, t)
}

// enter enters t's state (or runs it again after a retry back-off).
func (ex *Execution) enter(t *Thread) {
	cs := t.cs
	if cs == nil || cs.name != t.State {
		cs = t.def.states[t.State]
		t.cs = cs
	}
	if cs == nil {
		ex.threadFailed(t, ErrRuntime, fmt.Sprintf("the state '%s' does not exist", t.State))
		return
	}
	if t.Retrying {
		t.Retrying = false
	} else {
		t.EnteredTime = ex.now
		d := ex.enteredDetails()
		d.Name, d.Input = cs.name, t.Input.V
		t.enteredPrev = t.LastEventID
		t.EnteredEventID = ex.emit(t, enteredType[cs.kind], d)
	}
	if cs.jsonata {
		ex.enterJSONata(t)
		return
	}
	switch cs.kind {
	case kPass:
		ex.execPass(t)
	case kTask:
		ex.execTask(t)
	case kChoice:
		ex.execChoice(t)
	case kWait:
		ex.execWait(t)
	case kSucceed:
		ex.execSucceed(t)
	case kFail:
		ex.execFail(t)
	case kParallel:
		ex.execParallel(t)
	case kMap:
		ex.execMap(t)
	}
}

// exit leaves t's state with output and moves to next (nil: the state's
// Next, or the end of the thread).
func (ex *Execution) exit(t *Thread, output any, assigned map[string]any, next *cstate) {
	cs := t.cs
	if f := ex.tooBig(t, output); f != nil {
		ex.fail(t, f)
		return
	}
	d := ex.exitedDetails()
	d.Name, d.Output, d.Assigned = cs.name, output, assigned
	ex.emit(t, exitedType[cs.kind], d)
	if next == nil {
		next = cs.next
	}
	if next == nil {
		ex.threadDone(t, output)
		return
	}
	t.State, t.cs, t.Input = next.name, next, Value{output}
	t.Retries, t.Attempt, t.Deadline, t.HeartbeatDeadline, t.TaskToken, t.Effective = nil, 0, time.Time{}, time.Time{}, "", Value{}
	ex.makeReady(t)
}

// fail handles an error raised by t's state: Retry, then Catch, then the
// thread fails.
func (ex *Execution) fail(t *Thread, f *failure) { ex.failWith(t, f, "") }

// failWith is fail for Parallel and Map states: failedEvent
// (ParallelStateFailed, MapStateFailed) is recorded unless the state is
// retried.
func (ex *Execution) failWith(t *Thread, f *failure, failedEvent string) {
	cs := t.cs
	for i, r := range cs.retriers {
		if !matchError(r.errors, f.name) {
			continue
		}
		for len(t.Retries) < len(cs.retriers) {
			t.Retries = append(t.Retries, 0)
		}
		n := t.Retries[i]
		if int64(n) >= r.maxAttempts {
			break
		}
		delay := r.interval * math.Pow(r.backoff, float64(n))
		if r.maxDelay > 0 && delay > r.maxDelay {
			delay = r.maxDelay
		}
		if r.jitter {
			delay = delay * float64(ex.int63n(1<<53)) / (1 << 53)
		}
		t.Retries[i]++
		t.Attempt++
		t.Retrying = true
		t.TaskToken = ""
		if delay <= 0 {
			ex.makeReady(t)
			return
		}
		t.Phase = PhaseRetry
		t.Deadline = ex.now.Add(time.Duration(delay * float64(time.Second)))
		return
	}
	if failedEvent != "" {
		ex.emit(t, failedEvent, nil)
	}
	for _, c := range cs.catchers {
		if !matchError(c.errors, f.name) {
			continue
		}
		errOut := map[string]any{"Error": f.name, "Cause": f.cause}
		if cs.jsonata {
			ex.jcatch(t, c, errOut)
			return
		}
		assigned, af := ex.assign(t, c.assign, errOut)
		if af != nil {
			ex.threadFailed(t, af.name, af.cause)
			return
		}
		out, rf := ex.resultPath(t, c.resultPath, c.resultNull, t.Input.V, errOut)
		if rf != nil {
			ex.threadFailed(t, rf.name, rf.cause)
			return
		}
		if c.next == nil {
			ex.threadFailed(t, ErrRuntime, "catcher has no Next state")
			return
		}
		ex.exit(t, out, assigned, c.next)
		return
	}
	ex.threadFailed(t, f.name, f.cause)
}

// threadDone ends t with output.
func (ex *Execution) threadDone(t *Thread, output any) {
	t.Phase, t.Output = PhaseDone, Value{output}
	if t.parent == nil {
		ex.finish(StatusSucceeded, output, "", "")
		return
	}
	ex.childDone(t.parent, t)
}

// threadFailed ends t with an error.
func (ex *Execution) threadFailed(t *Thread, name, cause string) {
	t.Phase, t.Failed, t.Error, t.Cause = PhaseDone, true, name, cause
	if t.parent == nil {
		ex.finish(StatusFailed, nil, name, cause)
		return
	}
	ex.childDone(t.parent, t)
}

// complete finishes a state that produced result: ResultSelector, Assign,
// ResultPath, OutputPath, then exit.
func (ex *Execution) complete(t *Thread, result any) {
	cs := t.cs
	if cs.jsonata {
		ex.jcomplete(t, result)
		return
	}
	if cs.resultSel != nil {
		r, f := ex.evalTemplate(t, cs.resultSel, ex.scope(t, result))
		if f != nil {
			ex.fail(t, f)
			return
		}
		result = r
	}
	ex.finishResult(t, result)
}

func (ex *Execution) finishResult(t *Thread, result any) {
	cs := t.cs
	assigned, f := ex.assign(t, cs.assign, result)
	if f != nil {
		ex.fail(t, f)
		return
	}
	out, f := ex.resultPath(t, cs.resultPath, cs.resultNull, t.Input.V, result)
	if f != nil {
		ex.fail(t, f)
		return
	}
	if out, f = ex.outputPath(t, out); f != nil {
		ex.fail(t, f)
		return
	}
	ex.exit(t, out, assigned, nil)
}

func (ex *Execution) execPass(t *Thread) {
	cs := t.cs
	sc := ex.scope(t, t.Input.V)
	eff, f := ex.inputPath(t, sc)
	if f != nil {
		ex.fail(t, f)
		return
	}
	result := eff
	switch {
	case cs.hasResult:
		result = cs.result
	case cs.params != nil:
		sc.Input = eff
		if result, f = ex.evalTemplate(t, cs.params, sc); f != nil {
			ex.fail(t, f)
			return
		}
	}
	if cs.hasResult || cs.params != nil {
		if f := ex.tooBig(t, result); f != nil {
			ex.fail(t, f)
			return
		}
	}
	ex.finishResult(t, result)
}

func (ex *Execution) execSucceed(t *Thread) {
	sc := ex.scope(t, t.Input.V)
	eff, f := ex.inputPath(t, sc)
	if f != nil {
		ex.fail(t, f)
		return
	}
	out, f := ex.outputPath(t, eff)
	if f != nil {
		ex.fail(t, f)
		return
	}
	ex.exit(t, out, nil, nil)
}

func (ex *Execution) execFail(t *Thread) {
	cs := t.cs
	name, cause := cs.errorStr, cs.causeStr
	if cs.errorExpr != nil || cs.causeExpr != nil {
		sc := ex.scope(t, t.Input.V)
		if cs.errorExpr != nil {
			s, f := ex.failField(t, cs.errorExpr, "ErrorPath", sc)
			if f != nil {
				ex.threadFailed(t, f.name, f.cause)
				return
			}
			name = s
		}
		if cs.causeExpr != nil {
			s, f := ex.failField(t, cs.causeExpr, "CausePath", sc)
			if f != nil {
				ex.threadFailed(t, f.name, f.cause)
				return
			}
			cause = s
		}
	}
	ex.threadFailed(t, name, cause)
}

func (ex *Execution) failField(t *Thread, e *cexpr, field string, sc interface{}) (string, *failure) {
	scope := ex.scope(t, t.Input.V)
	v, err := e.eval(scope, ex.ienv)
	if err != nil {
		if e.call != nil {
			return "", ex.templateFailure(t, err, scope)
		}
		return "", ex.runtimeFailure(t, fmt.Sprintf("The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'", e.src, field, value.MarshalString(t.Input.V)))
	}
	s, ok := v.(string)
	if !ok {
		return "", ex.runtimeFailure(t, fmt.Sprintf("The JSONPath '%s' specified for the field '%s' must resolve to a string, not %s", e.src, field, value.TypeName(v)))
	}
	return s, nil
}

func (ex *Execution) execChoice(t *Thread) {
	cs := t.cs
	sc := ex.scope(t, t.Input.V)
	eff, f := ex.inputPath(t, sc)
	if f != nil {
		ex.fail(t, f)
		return
	}
	sc.Input = eff
	var next *cstate
	var rule *cchoice
	for _, c := range cs.choices {
		ok, err := evalChoice(c, sc)
		if err != nil {
			ex.fail(t, ex.runtimeFailure(t, err.Error()))
			return
		}
		if ok {
			next, rule = c.next, c
			break
		}
	}
	tp := cs.assign
	if rule != nil {
		tp = rule.assign
	} else {
		next = cs.deflt
	}
	if next == nil {
		ex.fail(t, &failure{ErrNoChoiceMatched, fmt.Sprintf("No Matches! (state '%s')", t.State)})
		return
	}
	assigned, f := ex.assign(t, tp, eff)
	if f != nil {
		ex.fail(t, f)
		return
	}
	out, f := ex.outputPath(t, eff)
	if f != nil {
		ex.fail(t, f)
		return
	}
	ex.exit(t, out, assigned, next)
}

func (ex *Execution) execWait(t *Thread) {
	cs := t.cs
	sc := ex.scope(t, t.Input.V)
	eff, f := ex.inputPath(t, sc)
	if f != nil {
		ex.fail(t, f)
		return
	}
	sc.Input = eff
	var until time.Time
	switch {
	case cs.hasSeconds:
		until = ex.now.Add(time.Duration(cs.seconds * float64(time.Second)))
	case cs.hasTimestamp:
		until = cs.timestamp
	case cs.secondsPath != nil:
		v, err := cs.secondsPath.Get(sc)
		if err != nil {
			ex.fail(t, ex.runtimeFailure(t, err.Error()))
			return
		}
		n, ok := intOf(v)
		if !ok || n < 0 {
			ex.fail(t, ex.runtimeFailure(t, fmt.Sprintf("The SecondsPath parameter does not reference a valid non-negative integer: %s == %s", cs.secondsPath.String(), value.MarshalString(v))))
			return
		}
		until = ex.now.Add(time.Duration(n) * time.Second)
	case cs.timestampPath != nil:
		v, err := cs.timestampPath.Get(sc)
		if err != nil {
			ex.fail(t, ex.runtimeFailure(t, err.Error()))
			return
		}
		s, _ := v.(string)
		ts, perr := parseTimestamp(s)
		if _, isStr := v.(string); !isStr || perr != nil {
			shown := s
			if _, isStr := v.(string); !isStr {
				shown = value.MarshalString(v)
			}
			ex.fail(t, ex.runtimeFailure(t, fmt.Sprintf("The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: %s == %s", cs.timestampPath.String(), shown)))
			return
		}
		until = ts
	}
	out, f := ex.outputPath(t, eff)
	if f != nil {
		ex.fail(t, f)
		return
	}
	t.Effective = Value{out}
	if !until.After(ex.now) {
		ex.waitDone(t)
		return
	}
	t.Phase, t.Deadline = PhaseWait, until
}

func (ex *Execution) waitDone(t *Thread) {
	out := t.Effective.V
	t.Effective, t.Deadline = Value{}, time.Time{}
	ex.exit(t, out, nil, nil)
}

// retryNow runs t's state again after its back-off.
func (ex *Execution) retryNow(t *Thread) {
	t.Deadline = time.Time{}
	ex.makeReady(t)
}

// positiveInt reads a TimeoutSecondsPath-like value.
func (ex *Execution) pathInt(t *Thread, field string, p interface {
	String() string
}, v any, err error) (int64, *failure) {
	if err != nil {
		return 0, ex.runtimeFailure(t, err.Error())
	}
	n, ok := intOf(v)
	if !ok || n <= 0 {
		return 0, ex.runtimeFailure(t, fmt.Sprintf("The %s field refers to value %s which is not a valid positive integer: %s", field, strconv.Quote(valueText(v)), p.String()))
	}
	return n, nil
}

// valueText shows a value in an error message (strings unquoted).
func valueText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return value.MarshalString(v)
}

// resourceParts splits a Task resource into AWS's resourceType and resource.
func resourceParts(res string) (typ, name string) {
	parts := strings.SplitN(res, ":", 7)
	if len(parts) >= 6 && parts[0] == "arn" && parts[2] == "states" {
		rest := strings.Join(parts[5:], ":")
		if i := strings.Index(rest, ":"); i >= 0 {
			return rest[:i], rest[i+1:]
		}
		return rest, rest
	}
	if len(parts) >= 3 && parts[0] == "arn" {
		return parts[2], res
	}
	return "kstates", res
}

func (ex *Execution) execTask(t *Thread) {
	cs := t.cs
	if cs.waitToken {
		ex.TokenSeq++
		t.TaskToken = ex.uuid()
	}
	sc := ex.scope(t, t.Input.V)
	eff, f := ex.inputPath(t, sc)
	if f != nil {
		ex.fail(t, f)
		return
	}
	sc.Input = eff
	if cs.params != nil {
		if eff, f = ex.evalTemplate(t, cs.params, sc); f != nil {
			ex.fail(t, f)
			return
		}
	}
	timeout, heartbeat := cs.timeout, cs.heartbeat
	if cs.timeoutPath != nil {
		v, err := cs.timeoutPath.Get(sc)
		if timeout, f = ex.pathInt(t, "TimeoutSecondsPath", cs.timeoutPath, v, err); f != nil {
			ex.fail(t, f)
			return
		}
	}
	if cs.heartbeatPath != nil {
		v, err := cs.heartbeatPath.Get(sc)
		if heartbeat, f = ex.pathInt(t, "HeartbeatSecondsPath", cs.heartbeatPath, v, err); f != nil {
			ex.fail(t, f)
			return
		}
	}
	ex.startTask(t, eff, timeout, heartbeat)
}

// startTask schedules t's task with its effective input and timeouts.
func (ex *Execution) startTask(t *Thread, eff any, timeout, heartbeat int64) {
	cs := t.cs
	if f := ex.tooBig(t, eff); f != nil {
		ex.fail(t, f)
		return
	}
	t.Effective = Value{eff}
	t.Phase = PhaseTask
	t.Deadline, t.HeartbeatDeadline, t.HeartbeatSeconds, t.TimeoutSeconds = time.Time{}, time.Time{}, heartbeat, timeout
	if timeout > 0 {
		t.Deadline = ex.now.Add(time.Duration(timeout) * time.Second)
	}
	if heartbeat > 0 {
		t.HeartbeatDeadline = ex.now.Add(time.Duration(heartbeat) * time.Second)
	}
	rt, rn := resourceParts(cs.resource)
	ex.emit(t, "TaskScheduled", &TaskScheduledDetails{ResourceType: rt, Resource: rn, Region: ex.region(), Parameters: eff, TimeoutInSeconds: timeout, HeartbeatInSeconds: heartbeat})
	ex.emit(t, "TaskStarted", &TaskDetails{ResourceType: rt, Resource: rn})
	req := &TaskRequest{
		StateName: cs.name, Resource: cs.resource, Input: eff, Attempt: t.Attempt, TaskToken: t.TaskToken,
		Context: ex.contextObject(t),
		Timeout: time.Duration(timeout) * time.Second, Heartbeat: time.Duration(heartbeat) * time.Second,
	}
	ex.actions = append(ex.actions, Action{Kind: ActionRunTask, Thread: t.ID, Attempt: t.Attempt, Task: req})
}

func (ex *Execution) taskSucceeded(t *Thread, output any) {
	rt, rn := resourceParts(t.cs.resource)
	t.Deadline, t.HeartbeatDeadline = time.Time{}, time.Time{}
	ex.emit(t, "TaskSucceeded", &TaskDetails{ResourceType: rt, Resource: rn, Output: output, HasOutput: true})
	if f := ex.tooBig(t, output); f != nil {
		ex.fail(t, f)
		return
	}
	t.Phase = PhaseReady // not queued: complete decides where it goes
	ex.complete(t, output)
}

func (ex *Execution) taskFailed(t *Thread, evType, name, cause string) {
	rt, rn := resourceParts(t.cs.resource)
	t.Deadline, t.HeartbeatDeadline = time.Time{}, time.Time{}
	ex.emit(t, evType, &ErrorDetails{Error: name, Cause: cause, Resource: rn, ResourceType: rt})
	t.Phase = PhaseReady
	ex.fail(t, &failure{name, cause})
}

// enteredDetails and exitedDetails hand out details from slabs: one
// allocation per 256 events instead of one per event.
func (ex *Execution) enteredDetails() *StateEnteredDetails {
	if ex.env.NoHistory {
		return &ex.scratchEntered
	}
	if len(ex.entered) == 0 {
		ex.entered = make([]StateEnteredDetails, 256)
	}
	d := &ex.entered[0]
	ex.entered = ex.entered[1:]
	return d
}

func (ex *Execution) exitedDetails() *StateExitedDetails {
	if ex.env.NoHistory {
		return &ex.scratchExited
	}
	if len(ex.exited) == 0 {
		ex.exited = make([]StateExitedDetails, 256)
	}
	d := &ex.exited[0]
	ex.exited = ex.exited[1:]
	return d
}

// region is the region of the execution's ARN ("local" when it has none).
func (ex *Execution) region() string {
	parts := strings.SplitN(ex.Context.ExecutionID, ":", 5)
	if len(parts) == 5 && parts[0] == "arn" && parts[3] != "" {
		return parts[3]
	}
	return "local"
}
