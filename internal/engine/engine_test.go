package engine

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kstates/kstates/internal/engine/value"
)

func TestDetailsKey(t *testing.T) {
	cases := []struct{ typ, want string }{
		{"PassStateEntered", "stateEnteredEventDetails"},
		{"MapStateExited", "stateExitedEventDetails"},
		{"ExecutionStarted", "executionStartedEventDetails"},
		{"ExecutionTimedOut", "executionTimedOutEventDetails"},
		{"TaskScheduled", "taskScheduledEventDetails"},
		{"TaskTimedOut", "taskTimedOutEventDetails"},
		{"MapIterationAborted", "mapIterationAbortedEventDetails"},
		{"MapStateStarted", "mapStateStartedEventDetails"},
		{"MapRunStarted", "mapRunStartedEventDetails"},
		{"ParallelStateStarted", ""},
		{"MapStateSucceeded", ""},
		{"TaskStateAborted", ""},
	}
	for _, c := range cases {
		if got := DetailsKey(c.typ); got != c.want {
			t.Errorf("DetailsKey(%q) = %q, want %q", c.typ, got, c.want)
		}
	}
}

func TestHistoryEventJSONHasAWSShape(t *testing.T) {
	p := compileString(t, `{"StartAt":"P","States":{"P":{"Type":"Pass","Assign":{"v":1},"End":true}}}`)
	res, _ := runVirtual(t, p, `{"a":[1,2.0]}`, nil)
	if res.Status != StatusSucceeded {
		t.Fatalf("%+v", res)
	}
	b, err := json.Marshal(res.History)
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("want 4 events, got %s", b)
	}
	entered := got[1]
	if entered["type"] != "PassStateEntered" || entered["id"] != 2.0 || entered["previousEventId"] != 0.0 {
		t.Errorf("entered event: %v", entered)
	}
	d, ok := entered["stateEnteredEventDetails"].(map[string]any)
	if !ok || d["name"] != "P" || d["input"] != `{"a":[1,2.0]}` {
		t.Errorf("stateEnteredEventDetails: input must be the JSON text as AWS shows it, got %v", entered)
	}
	exited := got[2]["stateExitedEventDetails"].(map[string]any)
	if av, _ := exited["assignedVariables"].(map[string]any); av["v"] != "1" {
		t.Errorf("assignedVariables hold JSON texts: %v", exited)
	}
	if got[2]["previousEventId"] != 2.0 || got[3]["type"] != "ExecutionSucceeded" || got[3]["previousEventId"] != 3.0 {
		t.Errorf("event links: %s", b)
	}
	if _, err := time.Parse(time.RFC3339, got[0]["timestamp"].(string)); err != nil {
		t.Errorf("timestamp: %v", err)
	}
}

func TestPayloadLimits(t *testing.T) {
	big := strings.Repeat("x", MaxPayloadSize)
	bigTask := TaskHandlerFunc(func(ctx context.Context, req *TaskRequest) (any, error) { return big, nil })
	cases := []struct {
		reason, def, input string
		tasks              TaskHandler
		status, errName    string
		output             string
	}{
		{
			reason: "a task result over 256 KiB fails with States.DataLimitExceeded",
			def:    `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","End":true}}}`,
			input:  `{}`, tasks: bigTask, status: StatusFailed, errName: ErrDataLimitExceeded,
		},
		{
			reason: "States.ALL does not catch States.DataLimitExceeded",
			def:    `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","Catch":[{"ErrorEquals":["States.ALL"],"Next":"Y"}],"End":true},"Y":{"Type":"Succeed"}}}`,
			input:  `{}`, tasks: bigTask, status: StatusFailed, errName: ErrDataLimitExceeded,
		},
		{
			reason: "naming States.DataLimitExceeded catches it",
			def:    `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","Catch":[{"ErrorEquals":["States.DataLimitExceeded"],"ResultPath":null,"Next":"Y"}],"End":true},"Y":{"Type":"Succeed"}}}`,
			input:  `{"small":true}`, tasks: bigTask, status: StatusSucceeded, output: `{"small":true}`,
		},
		{
			reason: "an execution input over 256 KiB fails at once",
			def:    `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`,
			input:  `"` + big + `"`, status: StatusFailed, errName: ErrDataLimitExceeded,
		},
		{
			reason: "a state output over 256 KiB built by Parameters fails",
			def:    `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"a.$":"$.s","b.$":"$.s"},"End":true}}}`,
			input:  `{"s":"` + big[:MaxPayloadSize/2] + `"}`, status: StatusFailed, errName: ErrDataLimitExceeded,
		},
	}
	for _, c := range cases {
		p := compileString(t, c.def)
		res, _ := runVirtual(t, p, c.input, c.tasks)
		if res.Status != c.status || res.Error != c.errName {
			t.Errorf("%s: got %s %s (%s)", c.reason, res.Status, res.Error, res.Cause)
			continue
		}
		if c.output != "" && !value.Equal(res.Output, mustValue(t, c.output)) {
			t.Errorf("%s: output %s", c.reason, value.Marshal(res.Output))
		}
	}
}

func TestAbortStopsTheExecutionAndCancelsTasks(t *testing.T) {
	p := compileString(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","End":true}}}`)
	ex := p.NewExecution(map[string]any{}, ContextOverrides{}, t0)
	_, actions, err := Step(p, ex, Event{Kind: EventStart}, t0, nil)
	if err != nil || len(actions) != 1 || actions[0].Kind != ActionRunTask {
		t.Fatalf("want one RunTask action, got %v %v", actions, err)
	}
	run := actions[0]
	events, actions, err := Step(p, ex, Event{Kind: EventAbort, Error: "UserStop", Cause: "stopped by test"}, t0.Add(time.Second), nil)
	if err != nil {
		t.Fatal(err)
	}
	if ex.Status != StatusAborted || ex.Error != "UserStop" || ex.Cause != "stopped by test" {
		t.Fatalf("status %s %s %s", ex.Status, ex.Error, ex.Cause)
	}
	if got := eventTypes(events); len(got) != 2 || got[0] != "TaskStateAborted" || got[1] != "ExecutionAborted" {
		t.Errorf("want TaskStateAborted, ExecutionAborted; got %v", got)
	}
	if len(actions) != 1 || actions[0].Kind != ActionCancelTask || actions[0].Thread != run.Thread {
		t.Errorf("want the running task cancelled, got %+v", actions)
	}
	// A late task answer changes nothing.
	events, _, _ = Step(p, ex, Event{Kind: EventTaskSucceeded, Thread: run.Thread, Attempt: run.Attempt, Output: 1}, t0.Add(2*time.Second), nil)
	if len(events) != 0 || ex.Status != StatusAborted {
		t.Errorf("a task answer after the abort must be ignored: %v %s", eventTypes(events), ex.Status)
	}
}

func TestRunAbortsWhenContextIsCancelled(t *testing.T) {
	p := compileString(t, `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	res := p.Run(ctx, map[string]any{}, RunOptions{Clock: RealClock{}})
	if res.Status != StatusAborted {
		t.Fatalf("status %s, want ABORTED", res.Status)
	}
	if got := eventTypes(res.History); len(got) != 4 || got[2] != "WaitStateAborted" || got[3] != "ExecutionAborted" {
		t.Errorf("history %v", got)
	}
}

func TestStaleTaskEventsAreIgnored(t *testing.T) {
	p := compileString(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","Retry":[{"ErrorEquals":["E"],"IntervalSeconds":1}],"End":true}}}`)
	ex := p.NewExecution(map[string]any{}, ContextOverrides{}, t0)
	_, actions, _ := Step(p, ex, Event{Kind: EventStart}, t0, nil)
	first := actions[0]
	Step(p, ex, Event{Kind: EventTaskFailed, Thread: first.Thread, Attempt: first.Attempt, Error: "E"}, t0, nil)
	// The first attempt answers again (a duplicate delivery): ignored.
	events, _, _ := Step(p, ex, Event{Kind: EventTaskSucceeded, Thread: first.Thread, Attempt: first.Attempt, Output: "late"}, t0, nil)
	if len(events) != 0 {
		t.Fatalf("duplicate answer produced %v", eventTypes(events))
	}
	_, actions, _ = Step(p, ex, Event{Kind: EventTimer}, t0.Add(time.Second), nil)
	if len(actions) != 1 || actions[0].Attempt != 1 {
		t.Fatalf("want the second attempt scheduled, got %+v", actions)
	}
	Step(p, ex, Event{Kind: EventTaskSucceeded, Thread: actions[0].Thread, Attempt: 1, Output: "ok"}, t0.Add(2*time.Second), nil)
	if ex.Status != StatusSucceeded || ex.Output.V != "ok" {
		t.Fatalf("status %s output %v", ex.Status, ex.Output.V)
	}
}

func TestHeartbeatExtendsTheDeadline(t *testing.T) {
	p := compileString(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","HeartbeatSeconds":10,"End":true}}}`)
	ex := p.NewExecution(map[string]any{}, ContextOverrides{}, t0)
	_, actions, _ := Step(p, ex, Event{Kind: EventStart}, t0, nil)
	run := actions[0]
	Step(p, ex, Event{Kind: EventTaskHeartbeat, Thread: run.Thread}, t0.Add(8*time.Second), nil)
	at, ok := ex.NextDeadline()
	if !ok || !at.Equal(t0.Add(18*time.Second)) {
		t.Fatalf("deadline %v, want start+18s", at)
	}
	Step(p, ex, Event{Kind: EventTimer}, t0.Add(12*time.Second), nil)
	if ex.Status != StatusRunning {
		t.Fatalf("the heartbeat must keep the task alive past 10s: %s %s", ex.Status, ex.Error)
	}
	Step(p, ex, Event{Kind: EventTimer}, t0.Add(18*time.Second), nil)
	if ex.Status != StatusFailed || ex.Error != ErrHeartbeatTimeout {
		t.Fatalf("status %s %s, want FAILED States.HeartbeatTimeout", ex.Status, ex.Error)
	}
}

func TestMapMaxConcurrencyIsRespected(t *testing.T) {
	p := compileString(t, `{"StartAt":"M","States":{"M":{"Type":"Map","MaxConcurrency":3,"ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","End":true}}},"End":true}}}`)
	var inFlight, peak int32
	var mu sync.Mutex
	h := TaskHandlerFunc(func(ctx context.Context, req *TaskRequest) (any, error) {
		n := atomic.AddInt32(&inFlight, 1)
		mu.Lock()
		if n > peak {
			peak = n
		}
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		atomic.AddInt32(&inFlight, -1)
		return req.Input, nil
	})
	items := make([]any, 20)
	for i := range items {
		items[i] = int64(i)
	}
	res := p.Run(context.Background(), items, RunOptions{Clock: RealClock{}, Tasks: h})
	if res.Status != StatusSucceeded || !value.Equal(res.Output, items) {
		t.Fatalf("%s %s %s %v", res.Status, res.Error, res.Cause, res.Output)
	}
	if peak > 3 || peak < 2 {
		t.Errorf("peak concurrency %d, want at most 3 (and some overlap)", peak)
	}
}

func TestTaskRequestCarriesWhatTheHandlerNeeds(t *testing.T) {
	p := compileString(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","TimeoutSeconds":30,"HeartbeatSeconds":5,"Parameters":{"tok.$":"$$.Task.Token","n.$":"$.n"},"End":true}}}`)
	var got *TaskRequest
	h := TaskHandlerFunc(func(ctx context.Context, req *TaskRequest) (any, error) { got = req; return "ok", nil })
	res, _ := runVirtual(t, p, `{"n":4}`, h)
	if res.Status != StatusSucceeded {
		t.Fatalf("%+v", res)
	}
	if got.StateName != "T" || got.Resource != "arn:aws:states:::sqs:sendMessage.waitForTaskToken" || got.TaskToken == "" ||
		got.Timeout != 30*time.Second || got.Heartbeat != 5*time.Second || got.Attempt != 0 {
		t.Errorf("request %+v", got)
	}
	if !value.Equal(got.Input, map[string]any{"tok": got.TaskToken, "n": int64(4)}) {
		t.Errorf("input %s", value.Marshal(got.Input))
	}
	ctx, _ := got.Context.(map[string]any)
	if task, _ := ctx["Task"].(map[string]any); task["Token"] != got.TaskToken {
		t.Errorf("context %v", got.Context)
	}
}

func TestBadInputsNeverPanic(t *testing.T) {
	p := compileString(t, `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)
	// Unknown threads, events before the start, garbage state.
	ex := p.NewExecution(nil, ContextOverrides{}, t0)
	if _, _, err := Step(p, ex, Event{Kind: EventTaskSucceeded, Thread: "/nope"}, t0, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := UnmarshalExecution([]byte(`{"root":{"id":"","state":"Nope","phase":"ready"},"status":"RUNNING"}`)); err != nil {
		t.Fatal(err)
	}
	bad, _ := UnmarshalExecution([]byte(`{"root":{"id":"","state":"Nope","phase":"ready"},"status":"RUNNING"}`))
	if _, _, err := Step(p, bad, Event{Kind: EventTimer}, t0, nil); err == nil {
		t.Error("a state naming an unknown state must be an error")
	}
	for _, s := range []string{``, `[]`, `{"root":null}`, `{"root":{"input":{"x":}}}`} {
		if _, err := UnmarshalExecution([]byte(s)); err == nil {
			t.Errorf("UnmarshalExecution(%q) must fail", s)
		}
	}
	if _, err := Compile(nil); err == nil {
		t.Error("Compile(nil) must fail")
	}
}

func TestRunsAreReproducible(t *testing.T) {
	p := compileFile(t, "counter_loop.json")
	a, _ := runVirtual(t, p, `{"i":0,"n":50}`, nil)
	b, _ := runVirtual(t, p, `{"i":0,"n":50}`, nil)
	ja, _ := json.Marshal(a.History)
	jb, _ := json.Marshal(b.History)
	if a.Status != StatusSucceeded || string(ja) != string(jb) {
		t.Fatalf("two runs differ (%s)", a.Status)
	}
	if !value.Equal(a.Output, map[string]any{"i": int64(50), "n": int64(50)}) {
		t.Errorf("output %s", value.Marshal(a.Output))
	}
	if len(a.History) != 1+4*50+2+2+1 { // start, 50 rounds of Choice+Pass, last Choice, Succeed, end
		t.Errorf("history has %d events", len(a.History))
	}
}

func TestRunningTasksAfterReload(t *testing.T) {
	p := compileString(t, `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
		{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"ra","TimeoutSeconds":30,"End":true}}},
		{"StartAt":"B","States":{"B":{"Type":"Task","Resource":"rb","End":true}}}]}}}`)
	ex := p.NewExecution(map[string]any{"x": int64(1)}, ContextOverrides{}, t0)
	_, all, _ := Step(p, ex, Event{Kind: EventStart}, t0, nil)
	var actions []Action
	for _, a := range all {
		if a.Kind == ActionRunTask {
			actions = append(actions, a)
		}
	}
	b, err := ex.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := UnmarshalExecution(b)
	if err != nil {
		t.Fatal(err)
	}
	running, err := loaded.RunningTasks(p)
	if err != nil || len(running) != 2 || len(actions) != 2 {
		t.Fatalf("running %v (%v), scheduled %v", running, err, actions)
	}
	for i := range running {
		a, r := actions[i], running[i]
		if a.Thread != r.Thread || a.Attempt != r.Attempt || a.Task.Resource != r.Task.Resource ||
			a.Task.Timeout != r.Task.Timeout || !value.Equal(a.Task.Input, r.Task.Input) {
			t.Errorf("task %d: scheduled %+v, reloaded %+v", i, a.Task, r.Task)
		}
	}
	if got := loaded.CurrentStates(); len(got) != 2 || got[0] != "A" || got[1] != "B" {
		t.Errorf("current states %v", got)
	}
}

func TestHistoryLimitEndsEndlessLoops(t *testing.T) {
	p := compileString(t, `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$","StringEquals":"","Next":"C"}],"Default":"Y"},"Y":{"Type":"Succeed"}}}`)
	res, _ := runVirtual(t, p, `""`, nil)
	if res.Status != StatusFailed || res.Error != ErrRuntime || len(res.History) != MaxHistoryEvents {
		t.Fatalf("an endless loop must fail at %d events: %s %s %q after %d events", MaxHistoryEvents, res.Status, res.Error, res.Cause, len(res.History))
	}
	if last := res.History[len(res.History)-1]; last.Type != "ExecutionFailed" || last.ID != MaxHistoryEvents {
		t.Errorf("last event %s #%d", last.Type, last.ID)
	}
	res = p.Run(context.Background(), "", RunOptions{Clock: NewVirtualClock(t0), MaxHistoryEvents: 100, NoHistory: true})
	if res.Status != StatusFailed || !strings.Contains(res.Cause, "(100)") {
		t.Errorf("MaxHistoryEvents 100: %s %q", res.Status, res.Cause)
	}
}

func TestAbortInsideAMap(t *testing.T) {
	p := compileString(t, `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","End":true}}},"End":true}}}`)
	ex := p.NewExecution([]any{int64(1), int64(2)}, ContextOverrides{}, t0)
	if _, _, err := Step(p, ex, Event{Kind: EventStart}, t0, nil); err != nil {
		t.Fatal(err)
	}
	events, actions, err := Step(p, ex, Event{Kind: EventAbort}, t0, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"TaskStateAborted", "MapIterationAborted", "TaskStateAborted", "MapIterationAborted", "MapStateAborted", "ExecutionAborted"}
	if got := eventTypes(events); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("events %v, want %v", got, want)
	}
	if len(actions) != 2 || actions[0].Kind != ActionCancelTask || actions[1].Kind != ActionCancelTask {
		t.Errorf("want both tasks cancelled, got %+v", actions)
	}
}
