package controllers

import (
	"strings"
	"testing"
	"time"

	"github.com/kstates/kstates/internal/engine"
	"github.com/kstates/kstates/internal/engine/asl"
)

// Stepping a Parallel of two Task branches leaves two running tasks, found with their
// Resource by walking the definition, and a summary that counts them.
func TestRunningTasksAndCurrentStates(t *testing.T) {
	def, diags := asl.Parse([]byte(`{"StartAt":"Par","States":{"Par":{"Type":"Parallel","End":true,"Branches":[
		{"StartAt":"T1","States":{"T1":{"Type":"Task","Resource":"r1","End":true}}},
		{"StartAt":"T2","States":{"T2":{"Type":"Task","Resource":"r2","End":true}}}]}}}`), asl.Options{})
	if asl.HasErrors(diags) {
		t.Fatal(diags)
	}
	p, err := engine.Compile(def)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(0, 0)
	ex := p.NewExecution(map[string]any{}, engine.ContextOverrides{}, now)
	ev := engine.Event{Kind: engine.EventStart}
	for i := 0; i < 10; i++ {
		_, actions, err := engine.Step(p, ex, ev, now, &engine.Env{MaxTransitions: 1})
		if err != nil {
			t.Fatal(err)
		}
		cont := false
		for _, a := range actions {
			cont = cont || a.Kind == engine.ActionContinue
		}
		if !cont {
			break
		}
		ev = engine.Event{Kind: engine.EventContinue}
	}
	tasks := runningTasks(p, ex)
	var got []string
	for _, tk := range tasks {
		got = append(got, tk.thread.State+"="+tk.resource)
	}
	if strings.Join(got, ",") != "T1=r1,T2=r2" {
		t.Errorf("running tasks %v", got)
	}
	states, summary := currentStates(ex)
	if strings.Join(states, ",") != "T1,T2" || summary != "Par (2 running)" {
		t.Errorf("current states %v %q", states, summary)
	}
}
