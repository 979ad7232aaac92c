package engine

import (
	"fmt"
	"time"
)

// RunningTasks lists the tasks the execution waits for, as RunTask actions
// (the same requests Step issued when it scheduled them). A controller that
// restarts uses it to find, or start again, the task of each attempt.
func (ex *Execution) RunningTasks(p *Program) ([]Action, error) {
	if ex.Status != StatusRunning || ex.Root == nil {
		return nil, nil
	}
	if !ex.linked {
		if err := ex.link(p); err != nil {
			return nil, err
		}
	}
	var out []Action
	ex.walk(ex.Root, func(t *Thread) {
		if t.Phase != PhaseTask || t.cs == nil {
			return
		}
		timeout := time.Duration(t.TimeoutSeconds) * time.Second
		req := &TaskRequest{
			StateName: t.State, Resource: t.cs.resource, Input: t.Effective.V, Attempt: t.Attempt,
			TaskToken: t.TaskToken, Context: ex.contextObject(t), Timeout: timeout,
			Heartbeat: time.Duration(t.HeartbeatSeconds) * time.Second,
		}
		out = append(out, Action{Kind: ActionRunTask, Thread: t.ID, Attempt: t.Attempt, Task: req})
	})
	return out, nil
}

// CurrentStates names the states the execution is in (one per running
// branch or iteration, innermost first), for status displays.
func (ex *Execution) CurrentStates() []string {
	if ex.Root == nil || ex.Status != StatusRunning {
		return nil
	}
	var out []string
	var visit func(t *Thread)
	visit = func(t *Thread) {
		for _, c := range t.Children {
			visit(c)
		}
		if t.Phase != PhaseDone && len(t.Children) == 0 {
			out = append(out, t.State)
		}
	}
	visit(ex.Root)
	return out
}

// String summarises the execution for logs.
func (ex *Execution) String() string {
	return fmt.Sprintf("execution %s (%s, %d events)", ex.Context.ExecutionName, ex.Status, ex.LastEventID)
}
