package engine

import (
	"context"
	"errors"
	"sync"
	"time"
)

// RealClock is the wall clock.
type RealClock struct{}

// Now implements Clock.
func (RealClock) Now() time.Time { return time.Now() }

// Sleep implements Clock.
func (RealClock) Sleep(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// VirtualClock is a Clock whose Sleep returns at once, moving time forward:
// Wait states, retry back-off and timeouts cost no wall-clock time.
type VirtualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewVirtualClock returns a virtual clock reading start.
func NewVirtualClock(start time.Time) *VirtualClock { return &VirtualClock{now: start} }

// Now implements Clock.
func (c *VirtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep implements Clock.
func (c *VirtualClock) Sleep(ctx context.Context, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	if t.After(c.now) {
		c.now = t
	}
	c.mu.Unlock()
	return nil
}

// Virtual reports that the clock is virtual (Program.Run lets running
// tasks answer before it moves such a clock).
func (c *VirtualClock) Virtual() bool { return true }

// virtualGrace is how long (in real time) Run waits for running tasks before
// moving a virtual clock to the next deadline.
const virtualGrace = 20 * time.Millisecond

type taskDone struct {
	thread  string
	attempt int
	output  any
	err     error
}

// Run runs an execution to its end in memory: an event loop over Step.
// Tasks run concurrently on their own goroutines (as Parallel and Map let
// them); a cancelled ctx aborts the execution.
func (p *Program) Run(ctx context.Context, input any, opts RunOptions) *Result {
	clock := opts.Clock
	if clock == nil {
		clock = RealClock{}
	}
	env := &Env{UUID: opts.UUID, Int63n: opts.Int63n, NoHistory: opts.NoHistory, MaxEvents: opts.MaxHistoryEvents}
	ex := p.NewExecution(input, opts.Context, clock.Now())
	ex.keepEvents = true
	done := make(chan taskDone, 16)
	running := map[string]context.CancelFunc{}
	taskCtx, cancelAll := context.WithCancel(ctx)
	defer cancelAll()

	ev := Event{Kind: EventStart}
	for {
		events, actions, err := Step(p, ex, ev, clock.Now(), env)
		if err != nil {
			return &Result{Status: StatusFailed, Error: ErrRuntime, Cause: err.Error(), History: ex.events}
		}
		_ = events
		var wake time.Time
		cont := false
		for _, a := range actions {
			switch a.Kind {
			case ActionRunTask:
				key := a.Thread
				if c := running[key]; c != nil {
					c()
				}
				tctx, cancel := context.WithCancel(taskCtx)
				running[key] = cancel
				go runTask(tctx, opts.Tasks, a, done)
			case ActionCancelTask:
				if c := running[a.Thread]; c != nil {
					c()
					delete(running, a.Thread)
				}
			case ActionWakeAt:
				wake = a.At
			case ActionContinue:
				cont = true
			}
		}
		if ex.Status != StatusRunning {
			break
		}
		if cont {
			ev = Event{Kind: EventContinue}
			continue
		}
		// Wait for a task to finish, the next timer, or cancellation.
		if len(running) == 0 && wake.IsZero() {
			return &Result{Status: StatusFailed, Error: ErrRuntime, Cause: "the execution is stuck: no task is running and no timer is set", History: ex.events}
		}
		ev = Event{Kind: EventTimer}
		if len(running) == 0 {
			if err := clock.Sleep(ctx, wake); err != nil {
				ev = Event{Kind: EventAbort, Error: "States.Aborted", Cause: err.Error()}
			}
		} else {
			if v, ok := clock.(interface{ Virtual() bool }); ok && v.Virtual() {
				// Virtual time must not jump while a task that is about to
				// answer is still running: give running tasks a moment of
				// real time first.
				grace := time.NewTimer(virtualGrace)
				select {
				case d := <-done:
					grace.Stop()
					delete(running, d.thread)
					ev = taskEvent(d)
					continue
				case <-grace.C:
				}
			}
			var sleepDone chan error
			sctx, stop := context.WithCancel(ctx)
			if !wake.IsZero() {
				sleepDone = make(chan error, 1)
				go func() { sleepDone <- clock.Sleep(sctx, wake) }()
			}
			select {
			case d := <-done:
				ev = taskEvent(d)
				delete(running, d.thread)
			case err := <-sleepDone:
				if err != nil && ctx.Err() != nil {
					ev = Event{Kind: EventAbort, Error: "States.Aborted", Cause: ctx.Err().Error()}
				}
			case <-ctx.Done():
				ev = Event{Kind: EventAbort, Error: "States.Aborted", Cause: ctx.Err().Error()}
			}
			stop()
		}
	}
	res := &Result{Status: ex.Status, Error: ex.Error, Cause: ex.Cause, History: ex.events}
	if ex.Status == StatusSucceeded {
		res.Output = ex.Output.V
	}
	return res
}

func taskEvent(d taskDone) Event {
	if d.err == nil {
		return Event{Kind: EventTaskSucceeded, Thread: d.thread, Attempt: d.attempt, Output: d.output}
	}
	var e *Error
	if errors.As(d.err, &e) {
		return Event{Kind: EventTaskFailed, Thread: d.thread, Attempt: d.attempt, Error: e.Name, Cause: e.Cause}
	}
	return Event{Kind: EventTaskFailed, Thread: d.thread, Attempt: d.attempt, Error: ErrTaskFailed, Cause: d.err.Error()}
}

func runTask(ctx context.Context, h TaskHandler, a Action, done chan<- taskDone) {
	d := taskDone{thread: a.Thread, attempt: a.Attempt}
	defer func() {
		if r := recover(); r != nil {
			d.output, d.err = nil, &Error{Name: ErrTaskFailed, Cause: "the task handler panicked"}
		}
		select {
		case done <- d:
		case <-ctx.Done():
		}
	}()
	if ctx.Err() != nil {
		return // cancelled before it started
	}
	if h == nil {
		d.err = &Error{Name: ErrTaskFailed, Cause: "no task handler is configured for resource " + a.Task.Resource}
		return
	}
	d.output, d.err = h.RunTask(ctx, a.Task)
}
