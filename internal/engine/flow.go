package engine

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kstates/kstates/internal/engine/intrinsics"
	"github.com/kstates/kstates/internal/engine/jsonpath"
	"github.com/kstates/kstates/internal/engine/template"
	"github.com/kstates/kstates/internal/engine/value"
)

// MaxPayloadSize is AWS's limit on state input, output and task results:
// 256 KiB of serialised JSON.
const MaxPayloadSize = 256 * 1024

// AWS error names.
const (
	ErrAll                   = "States.ALL"
	ErrTaskFailed            = "States.TaskFailed"
	ErrTimeout               = "States.Timeout"
	ErrHeartbeatTimeout      = "States.HeartbeatTimeout"
	ErrNoChoiceMatched       = "States.NoChoiceMatched"
	ErrBranchFailed          = "States.BranchFailed"
	ErrDataLimitExceeded     = "States.DataLimitExceeded"
	ErrIntrinsicFailure      = "States.IntrinsicFailure"
	ErrParameterPathFailure  = "States.ParameterPathFailure"
	ErrResultPathMatch       = "States.ResultPathMatchFailure"
	ErrRuntime               = "States.Runtime"
	ErrExceedToleratedFailed = "States.ExceedToleratedFailureThreshold"
	ErrItemReaderFailed      = "States.ItemReaderFailed"
	ErrResultWriterFailed    = "States.ResultWriterFailed"
)

// failure is an ASL error raised while running a state.
type failure struct{ name, cause string }

// matchError reports whether an ErrorEquals list matches an error name.
// States.ALL matches every error but States.Runtime and
// States.DataLimitExceeded; States.TaskFailed matches every error but those
// and States.Timeout. States.Runtime is never matched (AWS: it is not
// retriable and always fails the execution).
func matchError(list []string, name string) bool {
	if name == ErrRuntime {
		return false
	}
	for _, e := range list {
		switch {
		case e == name:
			return true
		case e == ErrAll && name != ErrDataLimitExceeded:
			return true
		case e == ErrTaskFailed && name != ErrDataLimitExceeded && name != ErrTimeout:
			return true
		}
	}
	return false
}

// Lookup implements jsonpath.Vars: a thread sees its own variables and
// those of the scopes around it.
func (t *Thread) Lookup(name string) (any, bool) {
	for s := t; s != nil; s = s.parent {
		if v, ok := s.Vars[name]; ok {
			return v, true
		}
	}
	return nil, false
}

// runtimeFailure builds a States.Runtime failure with AWS's prefix.
func (ex *Execution) runtimeFailure(t *Thread, msg string) *failure {
	return &failure{ErrRuntime, ex.causePrefix(t) + msg}
}

func (ex *Execution) causePrefix(t *Thread) string {
	return fmt.Sprintf("An error occurred while executing the state '%s' (entered at the event id #%d). ", t.State, t.EnteredEventID)
}

// scope makes the evaluation scope of thread t over input.
//
// The scope is the execution's scratch scope, reused by every evaluation:
// a state's steps use it one after the other, never two at once. newScope
// allocates one for the places that need two.
func (ex *Execution) scope(t *Thread, input any) *jsonpath.Scope {
	sc := &ex.scratch
	*sc = jsonpath.Scope{Input: input, Vars: t}
	if t.cs != nil && t.cs.needsCtx {
		sc.Context = ex.contextObject(t)
	}
	return sc
}

func (ex *Execution) newScope(t *Thread, input any) *jsonpath.Scope {
	sc := &jsonpath.Scope{Input: input, Vars: t}
	if t.cs != nil && t.cs.needsCtx {
		sc.Context = ex.contextObject(t)
	}
	return sc
}

const timeLayout = "2006-01-02T15:04:05.000Z"

func (ex *Execution) contextObject(t *Thread) map[string]any {
	if ex.ctxExec == nil {
		c := &ex.Context
		ex.ctxExec = map[string]any{
			"Id":           c.ExecutionID,
			"Input":        ex.Input.V,
			"Name":         c.ExecutionName,
			"RoleArn":      c.RoleArn,
			"StartTime":    ex.StartTime.UTC().Format(timeLayout),
			"RedriveCount": int64(0),
		}
	}
	m := map[string]any{
		"Execution":    ex.ctxExec,
		"State":        ex.stateContext(t),
		"StateMachine": map[string]any{"Id": ex.Context.StateMachineID, "Name": ex.Context.StateMachineName},
	}
	if t.TaskToken != "" {
		m["Task"] = map[string]any{"Token": t.TaskToken}
	}
	for k, v := range ex.Context.Extra {
		if sub, ok := v.(map[string]any); ok {
			if base, ok := m[k].(map[string]any); ok {
				merged := make(map[string]any, len(base)+len(sub))
				for kk, vv := range base {
					merged[kk] = vv
				}
				for kk, vv := range sub {
					merged[kk] = vv
				}
				m[k] = merged
				continue
			}
		}
		m[k] = v
	}
	return m
}

// inputPath applies InputPath (absent: $, null: {}).
func (ex *Execution) inputPath(t *Thread, sc *jsonpath.Scope) (any, *failure) {
	cs := t.cs
	if cs.inputNull {
		return map[string]any{}, nil
	}
	if cs.inputPath == nil {
		return sc.Input, nil
	}
	v, err := cs.inputPath.Get(sc)
	if err != nil {
		return nil, ex.runtimeFailure(t, err.Error())
	}
	return v, nil
}

// outputPath applies OutputPath (absent: $, null: {}).
func (ex *Execution) outputPath(t *Thread, v any) (any, *failure) {
	cs := t.cs
	if cs.outputNull {
		return map[string]any{}, nil
	}
	if cs.outputPath == nil {
		return v, nil
	}
	sc := ex.scope(t, v)
	out, err := cs.outputPath.Get(sc)
	if err != nil {
		return nil, ex.runtimeFailure(t, err.Error())
	}
	return out, nil
}

// evalTemplate evaluates Parameters, ResultSelector, ItemSelector or Assign.
func (ex *Execution) evalTemplate(t *Thread, tp *template.Template, sc *jsonpath.Scope) (any, *failure) {
	v, err := tp.Eval(sc, ex.ienv)
	if err == nil {
		return v, nil
	}
	return nil, ex.templateFailure(t, err, sc)
}

func (ex *Execution) templateFailure(t *Thread, err error, sc *jsonpath.Scope) *failure {
	var fe *template.FieldError
	var ie *intrinsics.Error
	if errors.As(err, &ie) {
		return &failure{ErrIntrinsicFailure, ex.causePrefix(t) + ie.Message}
	}
	if errors.As(err, &fe) && errors.Is(err, jsonpath.ErrNoMatch) {
		in := sc.Input
		if strings.HasPrefix(fe.Expr, "$$") {
			in = sc.Context
		}
		return ex.runtimeFailure(t, fmt.Sprintf("The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'", fe.Expr, fe.Field, value.MarshalString(in)))
	}
	return ex.runtimeFailure(t, err.Error())
}

// assign evaluates an Assign template over in and stores the variables in
// t's scope. It returns the assigned variables (for the exited event).
func (ex *Execution) assign(t *Thread, tp *template.Template, in any) (map[string]any, *failure) {
	if tp == nil {
		return nil, nil
	}
	sc := ex.scope(t, in)
	v, f := ex.evalTemplate(t, tp, sc)
	if f != nil {
		return nil, f
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, ex.runtimeFailure(t, "Assign must evaluate to an object")
	}
	if len(m) == 0 {
		return nil, nil
	}
	if t.Vars == nil {
		t.Vars = make(Vars, len(m))
	}
	for k, x := range m {
		t.Vars[k] = x
	}
	return m, nil
}

// resultPath merges a result into the state input.
func (ex *Execution) resultPath(t *Thread, ref *jsonpath.Reference, null bool, input, result any) (any, *failure) {
	if null {
		return input, nil
	}
	if ref == nil {
		return result, nil
	}
	out, err := ref.Set(input, result)
	if err != nil {
		return nil, &failure{ErrResultPathMatch, ex.causePrefix(t) + fmt.Sprintf("Unable to apply ReferencePath %s to input '%s'", ref.String(), value.MarshalString(input))}
	}
	return out, nil
}

// tooBig checks the payload limit.
func (ex *Execution) tooBig(t *Thread, v any) *failure {
	if value.Size(v) > MaxPayloadSize {
		return &failure{ErrDataLimitExceeded, fmt.Sprintf("The state/task '%s' returned a result with a size exceeding the maximum number of bytes service limit.", t.State)}
	}
	return nil
}

// stateContext is $$.State; RetryCount is there for the states that can
// retry (Task, Parallel, Map), as AWS shows it.
func (ex *Execution) stateContext(t *Thread) map[string]any {
	m := map[string]any{
		"EnteredTime": t.EnteredTime.UTC().Format(timeLayout),
		"Name":        t.State,
	}
	if t.cs != nil && (t.cs.kind == kTask || t.cs.kind == kParallel || t.cs.kind == kMap) {
		m["RetryCount"] = int64(t.Attempt)
	}
	return m
}
