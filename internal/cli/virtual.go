package cli

import (
	"context"
	"errors"
	"time"

	"github.com/kstates/kstates/internal/engine"
)

// runVirtual runs an execution on virtual time (--clock virtual): a
// discrete-event loop over engine.Step. Mocked tasks are answered at once; a
// mock's Delay makes its answer arrive that much later in virtual time.
// The next event is always the earliest one: a task answer, or the timer
// Step asked for (Wait, retry back-off, timeouts); an answer due at the same
// instant as the timer comes first. Nothing waits for the wall clock, and
// the run is deterministic, Parallel branches and Map iterations included.
//
// Program.Run is not used here: with tasks running on goroutines, a virtual
// clock cannot tell whether a task is about to answer before it jumps to the
// next timer.
func runVirtual(ctx context.Context, p *engine.Program, input any, opts engine.RunOptions, tasks *MockTasks, start time.Time) *engine.Result {
	now := start
	env := &engine.Env{UUID: opts.UUID, Int63n: opts.Int63n, NoHistory: opts.NoHistory}
	ex := p.NewExecution(input, opts.Context, now)

	// answer is a task answer due at a virtual time; seq keeps ties in the
	// order the tasks started.
	type answer struct {
		at  time.Time
		seq int
		ev  engine.Event
	}
	var (
		history []engine.HistoryEvent
		pending []answer
		seq     int
	)
	ev := engine.Event{Kind: engine.EventStart}
	for {
		events, actions, err := engine.Step(p, ex, ev, now, env)
		if err != nil {
			return &engine.Result{Status: engine.StatusFailed, Error: "States.Runtime", Cause: err.Error(), History: history}
		}
		if !opts.NoHistory {
			history = append(history, events...)
		}
		var wake time.Time
		for _, a := range actions {
			switch a.Kind {
			case engine.ActionRunTask:
				out, delay, err := tasks.answer(a.Task)
				pending = append(pending, answer{at: now.Add(delay), seq: seq, ev: taskEvent(a, out, err)})
				seq++
			case engine.ActionCancelTask:
				kept := pending[:0]
				for _, pa := range pending {
					if pa.ev.Thread != a.Thread {
						kept = append(kept, pa)
					}
				}
				pending = kept
			case engine.ActionWakeAt:
				wake = a.At
			}
		}
		if ex.Status != engine.StatusRunning {
			break
		}
		if err := ctx.Err(); err != nil {
			ev = engine.Event{Kind: engine.EventAbort, Error: "States.Aborted", Cause: err.Error()}
			continue
		}
		// The next event: the earliest answer, unless the timer is earlier.
		next := -1
		for i, pa := range pending {
			if next < 0 || pa.at.Before(pending[next].at) || (pa.at.Equal(pending[next].at) && pa.seq < pending[next].seq) {
				next = i
			}
		}
		switch {
		case next >= 0 && (wake.IsZero() || !pending[next].at.After(wake)):
			if pending[next].at.After(now) {
				now = pending[next].at
			}
			ev = pending[next].ev
			pending = append(pending[:next], pending[next+1:]...)
		case !wake.IsZero():
			if wake.After(now) {
				now = wake
			}
			ev = engine.Event{Kind: engine.EventTimer}
		default:
			return &engine.Result{Status: engine.StatusFailed, Error: "States.Runtime",
				Cause: "the execution is stuck: no task is running and no timer is set", History: history}
		}
	}
	res := &engine.Result{Status: ex.Status, Error: ex.Error, Cause: ex.Cause, History: history}
	if ex.Status == engine.StatusSucceeded {
		res.Output = ex.Output.V
	}
	return res
}

// taskEvent turns a task's answer into the event Step expects.
func taskEvent(a engine.Action, out any, err error) engine.Event {
	ev := engine.Event{Kind: engine.EventTaskSucceeded, Thread: a.Thread, Attempt: a.Attempt, Output: out}
	if err != nil {
		ev.Kind, ev.Output = engine.EventTaskFailed, nil
		var e *engine.Error
		if errors.As(err, &e) {
			ev.Error, ev.Cause = e.Name, e.Cause
		} else {
			ev.Error, ev.Cause = "States.TaskFailed", err.Error()
		}
	}
	return ev
}
