package engine

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/kstates/kstates/internal/engine/intrinsics"
	"github.com/kstates/kstates/internal/engine/jsonata"
	"github.com/kstates/kstates/internal/engine/jsonpath"
	"github.com/kstates/kstates/internal/engine/value"
)

// Value wraps a JSON payload of the value model (nil, bool, int64, float64,
// string, []any, map[string]any) so that it survives a JSON round trip
// exactly (2 stays an integer, 2.0 a float). Payloads are never mutated
// once built, so a Value may be shared freely.
type Value struct{ V any }

// MarshalJSON implements json.Marshaler.
func (v Value) MarshalJSON() ([]byte, error) { return value.Marshal(v.V), nil }

// UnmarshalJSON implements json.Unmarshaler.
func (v *Value) UnmarshalJSON(b []byte) error {
	x, err := value.Parse(b)
	if err != nil {
		return err
	}
	v.V = x
	return nil
}

// Vars holds the workflow variables of one scope.
type Vars map[string]any

// MarshalJSON implements json.Marshaler.
func (m Vars) MarshalJSON() ([]byte, error) {
	if m == nil {
		return []byte("null"), nil
	}
	return value.Marshal(map[string]any(m)), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (m *Vars) UnmarshalJSON(b []byte) error {
	x, err := value.Parse(b)
	if err != nil {
		return err
	}
	if x == nil {
		*m = nil
		return nil
	}
	o, ok := x.(map[string]any)
	if !ok {
		return fmt.Errorf("vars: want an object, got %s", value.TypeName(x))
	}
	*m = o
	return nil
}

// Phase is where a thread stands in its current state.
type Phase string

// Thread phases.
const (
	// PhaseReady: the thread is about to enter State with Input.
	PhaseReady Phase = "ready"
	// PhaseWait: a Wait state waits until Deadline; its output is in Effective.
	PhaseWait Phase = "wait"
	// PhaseTask: a task is running; Deadline and HeartbeatDeadline are its
	// timeouts (zero when none).
	PhaseTask Phase = "task"
	// PhaseRetry: a Task, Parallel or Map state backs off until Deadline and
	// then runs again.
	PhaseRetry Phase = "retry"
	// PhaseChildren: a Parallel or Map state waits for its branches or
	// iterations.
	PhaseChildren Phase = "children"
	// PhaseDone: the thread has finished (Output, or Error and Cause).
	PhaseDone Phase = "done"
)

// Thread is one line of execution: the top level, a Parallel branch or a Map
// iteration. Children hold the branches or iterations of the Parallel or Map
// state the thread is in.
type Thread struct {
	// ID is "" for the top level; a child's is its parent's ID, "/", the
	// parent's attempt, "." and the branch or item index.
	ID string `json:"id"`
	// Index is the branch index (Parallel) or item index (Map).
	Index int `json:"index"`
	// State is the current state's name.
	State string `json:"state"`
	Phase Phase  `json:"phase"`
	// Input is the current state's raw input.
	Input Value `json:"input,omitzero"`
	// Effective is the task's effective input, a Wait's output, or a Map's
	// items.
	Effective Value `json:"effective,omitzero"`
	// Vars are the variables this thread's scope declares.
	Vars Vars `json:"vars,omitempty"`

	EnteredEventID int64     `json:"enteredEventId,omitempty"`
	EnteredTime    time.Time `json:"enteredTime,omitzero"`
	// LastEventID links the thread's next event (previousEventId).
	LastEventID int64 `json:"lastEventId"`
	// Retries counts the attempts used per retrier of the current state;
	// Attempt counts all retries of the current state.
	Retries []int `json:"retries,omitempty"`
	Attempt int   `json:"attempt,omitempty"`
	// Retrying marks a ready thread that runs its state again (no new
	// entered event).
	Retrying bool `json:"retrying,omitempty"`
	// Quiet threads (DISTRIBUTED Map iterations, which are child executions
	// on AWS) record no events in the parent's history.
	Quiet bool `json:"quiet,omitempty"`
	// Deadline is the Wait end, the retry time or the task timeout.
	Deadline          time.Time `json:"deadline,omitzero"`
	HeartbeatDeadline time.Time `json:"heartbeatDeadline,omitzero"`
	HeartbeatSeconds  int64     `json:"heartbeatSeconds,omitempty"`
	TimeoutSeconds    int64     `json:"timeoutSeconds,omitempty"`
	TaskToken         string    `json:"taskToken,omitempty"`

	// Parallel and Map progress.
	Children []*Thread `json:"children,omitempty"`
	Results  Value     `json:"results,omitzero"`
	NextItem int       `json:"nextItem,omitempty"`
	Total    int       `json:"total,omitempty"`
	Finished int       `json:"finished,omitempty"`
	Failures int       `json:"failures,omitempty"`
	MaxConc  int       `json:"maxConcurrency,omitempty"`
	TolCount int64     `json:"toleratedCount,omitempty"`
	TolPct   float64   `json:"toleratedPercentage,omitempty"`

	// Outcome (PhaseDone).
	Output Value  `json:"output,omitzero"`
	Error  string `json:"error,omitempty"`
	Cause  string `json:"cause,omitempty"`
	Failed bool   `json:"failed,omitempty"`

	parent *Thread
	// enteredPrev is the previousEventId of the state's entered event
	// (EvaluationFailed links to it); runtime only.
	enteredPrev int64
	def         *cdef
	cs          *cstate
}

// ExecContext holds the execution's context-object values.
type ExecContext struct {
	ExecutionID      string `json:"executionId"`
	ExecutionName    string `json:"executionName"`
	StateMachineID   string `json:"stateMachineId"`
	StateMachineName string `json:"stateMachineName"`
	RoleArn          string `json:"roleArn"`
	// Extra is merged into the context object.
	Extra Vars `json:"extra,omitempty"`
}

// Execution is the whole, serialisable state of one execution. Step mutates
// it in place; the controller stores it as JSON between steps.
type Execution struct {
	Status string `json:"status"`
	Output Value  `json:"output,omitzero"`
	Error  string `json:"error,omitempty"`
	Cause  string `json:"cause,omitempty"`

	Input     Value     `json:"input,omitzero"`
	StartTime time.Time `json:"startTime,omitzero"`
	StopTime  time.Time `json:"stopTime,omitzero"`
	// Deadline is the execution timeout (zero when none).
	Deadline time.Time   `json:"deadline,omitzero"`
	Context  ExecContext `json:"context"`
	// LastEventID is the id of the last history event.
	LastEventID int64 `json:"lastEventId"`
	// TokenSeq numbers task tokens.
	TokenSeq int64   `json:"tokenSeq,omitempty"`
	Root     *Thread `json:"root"`
	// Queue lists, in order, the threads left ready when a Step stopped at
	// Env.MaxTransitions.
	Queue []string `json:"queue,omitempty"`

	// Runtime, rebuilt by link after a load.
	linked  bool
	ready   []*Thread
	threads map[string]*Thread
	events  []HistoryEvent
	actions []Action
	ctxExec map[string]any
	scratch jsonpath.Scope
	// keepEvents makes Step append to events instead of restarting it (the
	// in-memory runner keeps the whole history there).
	keepEvents bool
	finishing  bool
	entered    []StateEnteredDetails
	exited     []StateExitedDetails
	// scratch details when history is off
	scratchEntered StateEnteredDetails
	scratchExited  StateExitedDetails
	now            time.Time
	env            *Env
	ienv           *intrinsics.Env
	jfuncs         jsonata.Option // AWS's functions (a precompiled set)
	jnow           jsonata.Option // WithNow(jnowAt), reused while now stays the same
	jnowAt         time.Time
	prog           *Program
}

// Env supplies the nondeterministic inputs of a step.
type Env struct {
	// UUID and Int63n feed States.UUID, States.MathRandom, task tokens and
	// retry jitter; nil means crypto-random.
	UUID   func() string
	Int63n func(n int64) int64
	// NoHistory turns history recording off.
	NoHistory bool
	// MaxEvents bounds the history: an execution that would record more
	// events fails with States.Runtime, as on AWS. 0 means AWS's 25,000;
	// a negative value means no limit.
	MaxEvents int64
	// MaxTransitions, when positive, stops a Step after that many states
	// were entered; the Step then returns an ActionContinue and the next
	// Step (EventContinue) goes on. The Kubernetes controller uses 1 to
	// commit every transition before the next.
	MaxTransitions int
}

// Marshal serialises the execution state.
func (ex *Execution) Marshal() ([]byte, error) { return json.Marshal(ex) }

// UnmarshalExecution loads an execution state saved by Marshal.
func UnmarshalExecution(data []byte) (*Execution, error) {
	ex := &Execution{}
	if err := json.Unmarshal(data, ex); err != nil {
		return nil, fmt.Errorf("engine: bad execution state: %w", err)
	}
	if ex.Root == nil {
		return nil, fmt.Errorf("engine: bad execution state: no root thread")
	}
	return ex, nil
}
