package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kstates/kstates/internal/engine"
	"github.com/kstates/kstates/internal/engine/asl"
)

func compile(t *testing.T, def string) *engine.Program {
	t.Helper()
	d, diags := asl.Parse([]byte(def), asl.Options{})
	if d == nil || hasErrors(diags) {
		t.Fatalf("invalid definition: %v", diags)
	}
	p, err := engine.Compile(d)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// at lists "TYPE STATE +SECONDS" for each event, the state taken from the
// history table's logic.
func timeline(evs []engine.HistoryEvent, start time.Time) []string {
	var out []string
	for i, r := range historyRows(evs) {
		out = append(out, r.typ+" "+r.state+" +"+evs[i].Timestamp.Sub(start).String())
	}
	return out
}

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func TestVirtualTimeOrdersTimersAndDelayedAnswers(t *testing.T) {
	// Branch A waits 3 s; branch B runs a task answering after 1 s, then one
	// answering after 5 s. In virtual time the events come in that order.
	p := compile(t, `{"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "End": true, "Branches": [
		{"StartAt": "Pause", "States": {"Pause": {"Type": "Wait", "Seconds": 3, "End": true}}},
		{"StartAt": "Quick", "States": {
			"Quick": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:q", "Next": "Slow"},
			"Slow": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:s", "End": true}}}]}}}`)
	mocks := mustMocks(t, `{"Quick": [{"Return": 1, "Delay": 1}], "Slow": [{"Return": 2, "Delay": 5}]}`, MockSelection{})
	res := runVirtual(context.Background(), p, map[string]any{}, engine.RunOptions{}, mocks, t0)
	if res.Status != engine.StatusSucceeded {
		t.Fatalf("%s %s: %s", res.Status, res.Error, res.Cause)
	}
	got := strings.Join(timeline(res.History, t0), "\n")
	for _, want := range [][2]string{
		{"TaskSucceeded Quick +1s", "WaitStateExited Pause +3s"},
		{"WaitStateExited Pause +3s", "TaskSucceeded Slow +6s"},
		{"TaskSucceeded Slow +6s", "ExecutionSucceeded  +6s"},
	} {
		i, j := strings.Index(got, want[0]), strings.Index(got, want[1])
		if i < 0 || j < 0 || i > j {
			t.Errorf("want %q before %q in:\n%s", want[0], want[1], got)
		}
	}
}

func TestVirtualTimeLetsATaskTimeOutBeforeItsDelayedAnswer(t *testing.T) {
	p := compile(t, `{"StartAt": "Slow", "States": {"Slow": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:s",
		"TimeoutSeconds": 5, "End": true}}}`)
	mocks := mustMocks(t, `{"Slow": [{"Return": 2, "Delay": 10}]}`, MockSelection{})
	res := runVirtual(context.Background(), p, map[string]any{}, engine.RunOptions{}, mocks, t0)
	if res.Status != engine.StatusFailed || res.Error != "States.Timeout" {
		t.Fatalf("got %s %s: %s, want FAILED States.Timeout", res.Status, res.Error, res.Cause)
	}
	last := res.History[len(res.History)-1]
	if d := last.Timestamp.Sub(t0); d != 5*time.Second {
		t.Errorf("the execution failed at +%v, want +5s", d)
	}
}

func TestVirtualTimeAbortsWhenCancelled(t *testing.T) {
	p := compile(t, `{"StartAt": "Loop", "States": {
		"Loop": {"Type": "Wait", "Seconds": 60, "Next": "Again"},
		"Again": {"Type": "Choice", "Choices": [{"Variable": "$.stop", "IsPresent": true, "Next": "Done"}], "Default": "Loop"},
		"Done": {"Type": "Succeed"}}}`)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := runVirtual(ctx, p, map[string]any{}, engine.RunOptions{}, noMocks(nil), t0)
	if res.Status != engine.StatusAborted {
		t.Errorf("got %s %s: %s, want ABORTED", res.Status, res.Error, res.Cause)
	}
}
