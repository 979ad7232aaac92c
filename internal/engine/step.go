package engine

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/kstates/kstates/internal/engine/intrinsics"
	"github.com/kstates/kstates/internal/engine/value"
)

// EventKind names what happened to an execution.
type EventKind string

// Event kinds fed to Step.
const (
	// EventStart starts the execution (the first Step).
	EventStart EventKind = "Start"
	// EventTaskSucceeded / EventTaskFailed complete the task of Thread.
	EventTaskSucceeded EventKind = "TaskSucceeded"
	EventTaskFailed    EventKind = "TaskFailed"
	// EventTaskHeartbeat extends the heartbeat deadline of Thread's task.
	EventTaskHeartbeat EventKind = "TaskHeartbeat"
	// EventTimer says that time has passed: every deadline up to now fires.
	EventTimer EventKind = "Timer"
	// EventAbort stops the execution (Error and Cause are recorded).
	EventAbort EventKind = "Abort"
	// EventContinue goes on after a Step stopped at Env.MaxTransitions.
	EventContinue EventKind = "Continue"
)

// Event is an input of Step.
type Event struct {
	Kind EventKind
	// Thread and Attempt identify the task (from the RunTask action); a
	// task event for another attempt or a finished thread is ignored.
	Thread  string
	Attempt int
	Output  any
	Error   string
	Cause   string
}

// ActionKind names what Step asks its caller to do.
type ActionKind string

// Action kinds.
const (
	// ActionRunTask: run Task for Thread and report it with a task event.
	ActionRunTask ActionKind = "RunTask"
	// ActionCancelTask: the task of Thread (Attempt) is no longer wanted.
	ActionCancelTask ActionKind = "CancelTask"
	// ActionWakeAt: call Step with EventTimer at (or after) At.
	ActionWakeAt ActionKind = "WakeAt"
	// ActionContinue: states are ready to run; call Step with EventContinue
	// (after saving the state, when that is the point of MaxTransitions).
	ActionContinue ActionKind = "Continue"
)

// Action is an output of Step.
type Action struct {
	Kind    ActionKind
	Thread  string
	Attempt int
	Task    *TaskRequest
	At      time.Time
}

// NewExecution creates the state of an execution that has not started; the
// first Step (EventStart) starts it. input is a value of the value model.
func (p *Program) NewExecution(input any, ctx ContextOverrides, now time.Time) *Execution {
	ex := &Execution{Status: StatusRunning, Input: Value{input}}
	start := ctx.StartTime
	if start.IsZero() {
		start = now
	}
	ex.StartTime = start.UTC()
	c := &ex.Context
	c.StateMachineName = ctx.StateMachineName
	if c.StateMachineName == "" {
		c.StateMachineName = "StateMachine"
	}
	c.ExecutionName = ctx.ExecutionName
	if c.ExecutionName == "" {
		c.ExecutionName = "execution"
	}
	c.StateMachineID = ctx.StateMachineID
	if c.StateMachineID == "" {
		c.StateMachineID = "arn:aws:states:local:000000000000:stateMachine:" + c.StateMachineName
	}
	c.ExecutionID = ctx.ExecutionID
	if c.ExecutionID == "" {
		c.ExecutionID = "arn:aws:states:local:000000000000:execution:" + c.StateMachineName + ":" + c.ExecutionName
	}
	c.RoleArn = ctx.RoleArn
	if ctx.Extra != nil {
		c.Extra = Vars(ctx.Extra)
	}
	if t := p.Def.TimeoutSeconds; t != nil && *t > 0 {
		ex.Deadline = ex.StartTime.Add(time.Duration(*t) * time.Second)
	}
	ex.Root = &Thread{State: p.Def.StartAt, Phase: PhaseReady, Input: Value{input}}
	return ex
}

// Step advances the execution: it applies ev at time now, then runs every
// thread that can run until each waits for a task or a timer or ends. It
// mutates ex in place and returns the history events it produced and the
// actions the caller must perform. Step is deterministic given its inputs
// (time, UUIDs and randomness come from now and env) and never panics on a
// bad definition, input or event: those end the execution or return an error
// (a state that does not belong to p).
func Step(p *Program, ex *Execution, ev Event, now time.Time, env *Env) (events []HistoryEvent, actions []Action, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("engine: internal error: %v", r)
		}
	}()
	if env == nil {
		env = &Env{}
	}
	ex.prog, ex.env, ex.now = p, env, now
	ex.ienv = ex.intrinsicsEnv()
	if !ex.linked {
		if err := ex.link(p); err != nil {
			return nil, nil, err
		}
	}
	if !ex.keepEvents {
		ex.events = ex.events[:0]
	}
	first := len(ex.events)
	ex.actions = ex.actions[:0]
	if ex.Status != StatusRunning {
		return nil, nil, nil
	}
	ex.apply(ev)
	ex.drain()
	ex.Queue = ex.Queue[:0]
	if ex.Status == StatusRunning && len(ex.ready) > 0 {
		for _, t := range ex.ready {
			if t.Phase == PhaseReady {
				ex.Queue = append(ex.Queue, t.ID)
			}
		}
		ex.actions = append(ex.actions, Action{Kind: ActionContinue})
	}
	if ex.Status == StatusRunning {
		if at, ok := ex.nextDeadline(); ok {
			ex.actions = append(ex.actions, Action{Kind: ActionWakeAt, At: at})
		}
	}
	return ex.events[first:len(ex.events):len(ex.events)], ex.actions, nil
}

// link rebuilds the runtime fields after a load (parents, definitions, the
// thread index and the ready queue).
func (ex *Execution) link(p *Program) error {
	ex.threads = map[string]*Thread{}
	ex.ready = ex.ready[:0]
	if err := ex.linkThread(ex.Root, nil, p.root); err != nil {
		return err
	}
	if len(ex.Queue) > 0 {
		// Keep the saved queue order; threads it misses follow.
		queued := map[*Thread]bool{}
		order := make([]*Thread, 0, len(ex.ready))
		for _, id := range ex.Queue {
			if t := ex.threads[id]; t != nil && t.Phase == PhaseReady && !queued[t] {
				queued[t] = true
				order = append(order, t)
			}
		}
		for _, t := range ex.ready {
			if !queued[t] {
				order = append(order, t)
			}
		}
		ex.ready = order
	}
	ex.linked = true
	return nil
}

func (ex *Execution) linkThread(t, parent *Thread, d *cdef) error {
	t.parent, t.def = parent, d
	if d == nil {
		return fmt.Errorf("engine: thread %q has no definition", t.ID)
	}
	t.cs = d.states[t.State]
	if t.cs == nil && t.Phase != PhaseDone {
		return fmt.Errorf("engine: thread %q is in unknown state %q", t.ID, t.State)
	}
	ex.threads[t.ID] = t
	if t.Phase == PhaseReady {
		ex.ready = append(ex.ready, t)
	}
	for _, c := range t.Children {
		var cd *cdef
		if t.cs != nil {
			if t.cs.kind == kParallel && c.Index >= 0 && c.Index < len(t.cs.branches) {
				cd = t.cs.branches[c.Index]
			} else if t.cs.kind == kMap {
				cd = t.cs.proc
			}
		}
		if err := ex.linkThread(c, t, cd); err != nil {
			return err
		}
	}
	return nil
}

// emit records a history event for thread t (nil: execution-level) and
// returns its id.
func (ex *Execution) emit(t *Thread, typ string, details any) int64 {
	if t != nil && t.Quiet {
		return 0
	}
	if !ex.finishing {
		if ex.Status != StatusRunning {
			return 0 // nothing is recorded after the end
		}
		if max := ex.maxEvents(); max > 0 && ex.LastEventID >= max-1 {
			// The last id is ExecutionFailed's.
			ex.cancelTasks(ex.Root)
			ex.finish(StatusFailed, nil, ErrRuntime, fmt.Sprintf("The execution reached the maximum number of history events (%d).", max))
			return 0
		}
	}
	ex.LastEventID++
	id := ex.LastEventID
	var prev int64
	if t != nil {
		prev = t.LastEventID
		t.LastEventID = id
	} else {
		prev = id - 1
	}
	if !ex.env.NoHistory {
		ex.events = append(ex.events, HistoryEvent{ID: id, PreviousEventID: prev, Timestamp: ex.now, Type: typ, Details: details})
	}
	return id
}

func (ex *Execution) apply(ev Event) {
	switch ev.Kind {
	case EventStart:
		if ex.LastEventID != 0 {
			return
		}
		ex.emit(nil, "ExecutionStarted", &ExecutionStartedDetails{Input: ex.Input.V, RoleArn: ex.Context.RoleArn})
		ex.Root.LastEventID = 0
		if value.Size(ex.Input.V) > MaxPayloadSize {
			ex.finish(StatusFailed, nil, ErrDataLimitExceeded, "The execution input exceeds the maximum number of bytes service limit.")
			return
		}
		if ex.prog.root.start == nil {
			ex.finish(StatusFailed, nil, "States.Runtime", "the state machine has no start state")
			return
		}
		ex.Root.def = ex.prog.root
		ex.threads[""] = ex.Root
		ex.ready = append(ex.ready[:0], ex.Root)
	case EventTaskSucceeded, EventTaskFailed:
		t := ex.threads[ev.Thread]
		if t == nil || t.Phase != PhaseTask || t.Attempt != ev.Attempt {
			return
		}
		if ev.Kind == EventTaskSucceeded {
			ex.taskSucceeded(t, ev.Output)
		} else {
			name := ev.Error
			if name == "" {
				name = "States.TaskFailed"
			}
			ex.taskFailed(t, "TaskFailed", name, ev.Cause)
		}
	case EventTaskHeartbeat:
		t := ex.threads[ev.Thread]
		if t != nil && t.Phase == PhaseTask && t.HeartbeatSeconds > 0 {
			t.HeartbeatDeadline = ex.now.Add(time.Duration(t.HeartbeatSeconds) * time.Second)
		}
	case EventTimer:
		ex.fireTimers()
	case EventAbort:
		ex.cancelTasks(ex.Root)
		ex.abortThread(ex.Root)
		ex.finish(StatusAborted, nil, ev.Error, ev.Cause)
	}
}

// fireTimers handles every deadline at or before now.
func (ex *Execution) fireTimers() {
	if !ex.Deadline.IsZero() && !ex.now.Before(ex.Deadline) {
		ex.cancelTasks(ex.Root)
		ex.finish(StatusTimedOut, nil, "States.Timeout", "The execution timed out.")
		return
	}
	var due []*Thread
	ex.walk(ex.Root, func(t *Thread) {
		switch t.Phase {
		case PhaseWait, PhaseRetry, PhaseTask:
			if (!t.Deadline.IsZero() && !ex.now.Before(t.Deadline)) ||
				(t.Phase == PhaseTask && !t.HeartbeatDeadline.IsZero() && !ex.now.Before(t.HeartbeatDeadline)) {
				due = append(due, t)
			}
		}
	})
	for _, t := range due {
		if ex.Status != StatusRunning {
			return
		}
		switch t.Phase {
		case PhaseWait:
			ex.waitDone(t)
		case PhaseRetry:
			ex.retryNow(t)
		case PhaseTask:
			ex.actions = append(ex.actions, Action{Kind: ActionCancelTask, Thread: t.ID, Attempt: t.Attempt})
			if !t.Deadline.IsZero() && !ex.now.Before(t.Deadline) {
				ex.taskFailed(t, "TaskTimedOut", "States.Timeout", "")
			} else {
				ex.taskFailed(t, "TaskTimedOut", "States.HeartbeatTimeout", "")
			}
		}
	}
}

func (ex *Execution) walk(t *Thread, f func(*Thread)) {
	f(t)
	for _, c := range t.Children {
		ex.walk(c, f)
	}
}

// nextDeadline is the earliest pending timer.
func (ex *Execution) nextDeadline() (time.Time, bool) {
	var at time.Time
	ok := false
	consider := func(d time.Time) {
		if !d.IsZero() && (!ok || d.Before(at)) {
			at, ok = d, true
		}
	}
	consider(ex.Deadline)
	ex.walk(ex.Root, func(t *Thread) {
		switch t.Phase {
		case PhaseWait, PhaseRetry, PhaseTask:
			consider(t.Deadline)
			if t.Phase == PhaseTask {
				consider(t.HeartbeatDeadline)
			}
		}
	})
	return at, ok
}

// NextDeadline returns the earliest pending timer of a running execution.
func (ex *Execution) NextDeadline() (time.Time, bool) {
	if ex.Status != StatusRunning || ex.Root == nil {
		return time.Time{}, false
	}
	return ex.nextDeadline()
}

// drain runs ready threads until none is left.
func (ex *Execution) drain() {
	entered := 0
	for i := 0; i < len(ex.ready) && ex.Status == StatusRunning; i++ {
		t := ex.ready[i]
		if t.Phase == PhaseReady {
			if max := ex.env.MaxTransitions; max > 0 && entered >= max {
				// Keep the rest for the next Step.
				n := copy(ex.ready, ex.ready[i:])
				clear(ex.ready[n:])
				ex.ready = ex.ready[:n]
				return
			}
			entered++
			ex.ready[i] = nil
			ex.enter(t)
		} else {
			ex.ready[i] = nil
		}
		if i >= 1024 && i >= len(ex.ready)/2 {
			n := copy(ex.ready, ex.ready[i+1:])
			clear(ex.ready[n:])
			ex.ready = ex.ready[:n]
			i = -1
		}
	}
	ex.ready = ex.ready[:0]
}

// cancelTasks asks the caller to cancel every running task under t.
func (ex *Execution) cancelTasks(t *Thread) {
	ex.walk(t, func(x *Thread) {
		if x.Phase == PhaseTask {
			ex.actions = append(ex.actions, Action{Kind: ActionCancelTask, Thread: x.ID, Attempt: x.Attempt})
		}
	})
}

// finish ends the execution.
func (ex *Execution) finish(status string, output any, errName, cause string) {
	if ex.Status != StatusRunning {
		return
	}
	ex.Status = status
	ex.finishing = true
	defer func() { ex.finishing = false }()
	ex.StopTime = ex.now
	switch status {
	case StatusSucceeded:
		ex.Output = Value{output}
		ex.emit(ex.Root, "ExecutionSucceeded", &OutputDetails{Output: output})
	case StatusFailed:
		ex.Error, ex.Cause = errName, cause
		ex.emit(ex.Root, "ExecutionFailed", &ErrorDetails{Error: errName, Cause: cause})
	case StatusTimedOut:
		ex.Error, ex.Cause = errName, cause
		ex.emit(ex.Root, "ExecutionTimedOut", &ErrorDetails{Error: errName, Cause: cause})
	case StatusAborted:
		ex.Error, ex.Cause = errName, cause
		ex.emit(ex.Root, "ExecutionAborted", &ErrorDetails{Error: errName, Cause: cause})
	}
}

// intrinsicsEnv adapts the step's Env.
func (ex *Execution) intrinsicsEnv() *intrinsics.Env {
	return &intrinsics.Env{UUID: ex.uuid, Int63n: ex.int63n}
}

func (ex *Execution) uuid() string {
	if ex.env.UUID != nil {
		return ex.env.UUID()
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func (ex *Execution) int63n(n int64) int64 {
	if n <= 0 {
		return 0
	}
	if ex.env.Int63n != nil {
		return ex.env.Int63n(n)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return int64(binary.LittleEndian.Uint64(b[:])>>1) % n
}

// MaxHistoryEvents is AWS's limit on the events of one execution.
const MaxHistoryEvents = 25000

func (ex *Execution) maxEvents() int64 {
	switch {
	case ex.env.MaxEvents < 0:
		return 0
	case ex.env.MaxEvents == 0:
		return MaxHistoryEvents
	}
	return ex.env.MaxEvents
}

// abortThread records that t's current state (and those of its branches
// and iterations, innermost first) was aborted: "<Type>StateAborted", and
// MapIterationAborted for the iterations of a Map.
func (ex *Execution) abortThread(t *Thread) {
	for _, c := range t.Children {
		ex.abortThread(c)
		if t.cs != nil && t.cs.kind == kMap && c.Phase != PhaseDone {
			ex.emitFrom(t, c, "MapIterationAborted", &MapIterationDetails{Name: t.State, Index: c.Index})
		}
	}
	switch t.Phase {
	case PhaseWait, PhaseTask, PhaseRetry, PhaseChildren:
		if t.cs != nil {
			ex.emit(t, typeNames[t.cs.kind]+"StateAborted", nil)
		}
	}
}
