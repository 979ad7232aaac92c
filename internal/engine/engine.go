// Package engine interprets Amazon States Language state machines: a pure
// step function over a serialisable execution state, and an in-memory runner
// on top of it (offline CLI, EXPRESS executions, conformance, benchmarks).
// It has no Kubernetes imports.
//
// The pipeline is Compile (definition -> immutable *Program), NewExecution
// (the serialisable *Execution), Step (program, execution, event, now ->
// history events and actions) and Program.Run (an event loop over Step with a
// Clock and a TaskHandler). docs/engine.md describes the design.
package engine

import (
	"context"
	"time"
)

// Execution statuses, as AWS names them.
const (
	StatusRunning   = "RUNNING"
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusTimedOut  = "TIMED_OUT"
	StatusAborted   = "ABORTED"
)

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

// TaskHandlerFunc adapts a function to TaskHandler.
type TaskHandlerFunc func(ctx context.Context, req *TaskRequest) (any, error)

// RunTask implements TaskHandler.
func (f TaskHandlerFunc) RunTask(ctx context.Context, req *TaskRequest) (any, error) {
	return f(ctx, req)
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
	// MaxHistoryEvents bounds the history (events are counted even when
	// not recorded): 0 means AWS's limit of 25,000, a negative value none.
	MaxHistoryEvents int64
}

// Result is the outcome of a run.
type Result struct {
	Status  string
	Output  any    // SUCCEEDED
	Error   string // FAILED, TIMED_OUT, ABORTED
	Cause   string
	History []HistoryEvent
}
