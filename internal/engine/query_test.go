package engine

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestEvaluationFailedEventHasAWSShape: a failing expression records
// EvaluationFailed with error, cause, location and state, linked as AWS
// links it, before the execution fails.
func TestEvaluationFailedEventHasAWSShape(t *testing.T) {
	p := compileString(t, `{"QueryLanguage":"JSONata","StartAt":"A","States":{
		"A":{"Type":"Pass","Next":"B"},
		"B":{"Type":"Pass","Output":{"x":["ok","{% $nope %}"]},"End":true}}}`)
	res, _ := runVirtual(t, p, `{}`, nil)
	if res.Status != StatusFailed || res.Error != ErrQueryEvaluation {
		t.Fatalf("got %s %s %s", res.Status, res.Error, res.Cause)
	}
	wantCause := "An error occurred while executing the state 'B' (entered at the event id #4). The JSONata expression '$nope' specified for the field 'Output/x/1' returned nothing (undefined)."
	if res.Cause != wantCause {
		t.Fatalf("cause %q, want %q", res.Cause, wantCause)
	}
	ev := res.History[len(res.History)-2]
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	d, _ := got["evaluationFailedEventDetails"].(map[string]any)
	if got["type"] != "EvaluationFailed" || d == nil || d["location"] != "Output/x/1" || d["state"] != "B" || d["error"] != ErrQueryEvaluation || d["cause"] != wantCause {
		t.Fatalf("event %s", b)
	}
	// B was entered at #4 linking to #3 (A's exit); nothing happened in B
	// since, so EvaluationFailed links to #3 as on AWS.
	if got["id"] != float64(5) || got["previousEventId"] != float64(3) {
		t.Fatalf("ids %v/%v, want 5/3", got["id"], got["previousEventId"])
	}
}

// TestQueryEvaluationErrorIsRetriedAndCaught: States.QueryEvaluationError
// is an ordinary error: a retrier on it runs the state again, and
// States.ALL catches it.
func TestQueryEvaluationErrorIsRetriedAndCaught(t *testing.T) {
	p := compileString(t, `{"QueryLanguage":"JSONata","StartAt":"T","States":{
		"T":{"Type":"Task","Resource":"r","Output":"{% $states.result.missing %}",
			"Retry":[{"ErrorEquals":["States.QueryEvaluationError"],"MaxAttempts":1,"IntervalSeconds":1}],
			"Catch":[{"ErrorEquals":["States.ALL"],"Next":"C","Output":"{% $states.errorOutput.Error %}"}],"End":true},
		"C":{"Type":"Succeed"}}}`)
	calls := 0
	res, _ := runVirtual(t, p, `{}`, TaskHandlerFunc(func(_ context.Context, req *TaskRequest) (any, error) {
		calls++
		return map[string]any{}, nil
	}))
	if res.Status != StatusSucceeded || res.Output != ErrQueryEvaluation {
		t.Fatalf("got %s %v %s %s", res.Status, res.Output, res.Error, res.Cause)
	}
	if calls != 2 {
		t.Fatalf("the task ran %d times, want 2 (one retry)", calls)
	}
	types := strings.Join(eventTypes(res.History), " ")
	if strings.Count(types, "EvaluationFailed") != 2 {
		t.Fatalf("want an EvaluationFailed per attempt: %s", types)
	}
}

// TestJSONataCompileErrorsAreLocated: Compile reports a bad expression with
// its JSON pointer and JSONata code (for definitions that skip asl's
// diagnostics).
func TestJSONataCompileErrorsAreLocated(t *testing.T) {
	p := compileString(t, `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Output":{"a":"{% 1 %}"},"End":true}}}`)
	p.Def.States["A"].Output.Value = map[string]any{"a": []any{"{% 1 + %}"}}
	_, err := Compile(p.Def)
	if err == nil || !strings.Contains(err.Error(), "/States/A/Output/a/0") || !strings.Contains(err.Error(), "S0207") {
		t.Fatalf("got %v", err)
	}
}

// TestJSONataStatesAreDeterministic: $now, $millis, $uuid and $random come
// from the run's clock and sources, so two runs agree.
func TestJSONataStatesAreDeterministic(t *testing.T) {
	p := compileString(t, `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Output":{"now":"{% $now() %}","ms":"{% $millis() %}","u":"{% $uuid() %}","r":"{% $random() %}"},"End":true}}}`)
	a, _ := runVirtual(t, p, `{}`, nil)
	b, _ := runVirtual(t, p, `{}`, nil)
	ja, _ := json.Marshal(a.Output)
	jb, _ := json.Marshal(b.Output)
	if a.Status != StatusSucceeded || string(ja) != string(jb) {
		t.Fatalf("runs differ: %s vs %s (%s %s)", ja, jb, a.Error, a.Cause)
	}
	m := a.Output.(map[string]any)
	if m["now"] != "2025-01-01T00:00:00.000Z" || m["ms"] != t0.UnixMilli() || m["r"] != 0.5 {
		t.Fatalf("output %s", ja)
	}
}
