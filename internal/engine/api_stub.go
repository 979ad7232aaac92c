// Package engine interprets Amazon States Language state machines: a pure
// step function over a serialisable execution state, and an in-memory runner
// on top of it (offline CLI, EXPRESS executions, conformance, benchmarks).
// It has no Kubernetes imports.
package engine

import (
	"context"
	"time"

	"github.com/kstates/kstates/internal/engine/asl"
)

// CONTRACT STUB (to be replaced by the implementation; the names below are
// fixed, more may be added).

// Execution statuses, as AWS names them.
const (
	StatusRunning   = "RUNNING"
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusTimedOut  = "TIMED_OUT"
	StatusAborted   = "ABORTED"
)

// Program is a compiled, immutable state machine, safe for concurrent use.
type Program struct{ Def *asl.Definition }

// Compile compiles a parsed definition (paths, templates and intrinsics are
// precompiled). Diagnostics from asl.Parse should be checked first.
func Compile(def *asl.Definition) (*Program, error) { return &Program{Def: def}, nil }

// Clock is the source of time. The virtual clock advances instantly to the
// next timer when nothing else can happen.
type Clock interface {
	Now() time.Time
	// Sleep waits until t or ctx is done.
	Sleep(ctx context.Context, t time.Time) error
}

// TaskRequest is what a Task state asks its handler to do.
type TaskRequest struct {
	StateName string
	Resource  string
	// Input is the effective input (Parameters/Arguments applied).
	Input any
	// Attempt counts from 0 (retries add one).
	Attempt int
	// TaskToken is set for .waitForTaskToken resources.
	TaskToken string
	// Context is the context object as the task sees it.
	Context any
	// Timeout and Heartbeat are zero when not set.
	Timeout   time.Duration
	Heartbeat time.Duration
}

// TaskHandler runs Task states for the in-memory runner. A returned *Error
// is a named error (Catch/Retry match its Name); any other error is
// States.TaskFailed.
type TaskHandler interface {
	RunTask(ctx context.Context, req *TaskRequest) (any, error)
}

// Error is a named ASL error with a cause.
type Error struct {
	Name  string
	Cause string
}

func (e *Error) Error() string { return e.Name + ": " + e.Cause }

// ContextOverrides sets context-object fields for a run; empty fields take
// defaults.
type ContextOverrides struct {
	ExecutionID      string // ARN-like id; default derived from names
	ExecutionName    string
	StateMachineID   string
	StateMachineName string
	RoleArn          string
	StartTime        time.Time
	// Extra is merged into $$ (e.g. {"Execution": {"RedriveCount": 0}}).
	Extra map[string]any
}

// RunOptions configure Program.Run.
type RunOptions struct {
	Clock   Clock
	Tasks   TaskHandler
	Context ContextOverrides
	// UUID and Int63n make States.UUID and States.MathRandom reproducible;
	// nil means crypto-random.
	UUID   func() string
	Int63n func(n int64) int64
	// NoHistory turns history recording off (it is on by default).
	NoHistory bool
}

// Result is the outcome of a run.
type Result struct {
	Status  string
	Output  any    // SUCCEEDED
	Error   string // FAILED, TIMED_OUT, ABORTED
	Cause   string
	History []HistoryEvent
}

// HistoryEvent is one event, in the shape of AWS's GetExecutionHistory.
type HistoryEvent struct {
	ID              int64     `json:"id"`
	PreviousEventID int64     `json:"previousEventId"`
	Timestamp       time.Time `json:"timestamp"`
	Type            string    `json:"type"`
	// Details is the "...EventDetails" object for Type (its JSON key is
	// DetailsKey(Type), e.g. "stateEnteredEventDetails").
	Details any `json:"-"`
}

// Run runs an execution to its end in memory.
func (p *Program) Run(ctx context.Context, input any, opts RunOptions) *Result {
	return &Result{Status: StatusFailed, Error: "States.Runtime", Cause: "not implemented"}
}
