package envtest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/metrics"
)

const taskDefinition = `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":"x"},"ResultPath":"$.v1","End":true}}}`

// An execution keeps the revision it started with: editing the StateMachine while it runs
// changes nothing for it, and a new execution runs the new revision.
func TestExecutionKeepsItsRevisionWhenTheStateMachineIsEdited(t *testing.T) {
	ctx, ns := setup(t)
	startManager(t, ns, nil)
	sm := makeStateMachine(ns, "m", taskDefinition).obj()
	create(ctx, t, sm)
	old := makeExecution(ns, "old").stateMachine("m").obj()
	create(ctx, t, old)
	pod := taskPod(ctx, t, ns, old, "T", 0)
	old = waitFor(ctx, t, old, "a pinned revision", func(e *kstatesv1alpha1.Execution) bool { return e.Status.Revision != "" })
	pinned := old.Status.Revision

	// Edit: the task's result now goes to $.v2, and a second state follows.
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(sm), sm); err != nil {
		t.Fatal(err)
	}
	sm.Spec.DefinitionString = `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":"x"},"ResultPath":"$.v2","Next":"Done"},"Done":{"Type":"Pass","Result":"v2","ResultPath":"$.done","End":true}}}`
	if err := k8sClient.Update(ctx, sm); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, sm, "the new revision", func(sm *kstatesv1alpha1.StateMachine) bool {
		return sm.Status.CurrentRevision != "" && sm.Status.CurrentRevision != pinned
	})
	completePod(ctx, t, pod, 0, `"r"`)
	got := waitPhase(ctx, t, ns, "old", kstatesv1alpha1.ExecutionSucceeded)
	if got.Status.Revision != pinned || !jsonEq(got.Status.Output, `{"v1":"r"}`) {
		t.Errorf("old execution: revision %s output %s, want %s and {\"v1\":\"r\"}", got.Status.Revision, got.Status.Output, pinned)
	}
	// The revision it ran is held by its finalizer (the execution names it in status.revision);
	// the execution did not write it (no owner reference of the execution).
	rev := &kstatesv1alpha1.StateMachineRevision{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: pinned}, rev); err != nil {
		t.Fatal(err)
	}
	if !controllerutil.ContainsFinalizer(rev, kstatesv1alpha1.FinalizerRevisionInUse) || len(rev.OwnerReferences) != 1 || rev.OwnerReferences[0].Kind != "StateMachine" {
		t.Errorf("revision %s finalizers %v owners %+v, want %s and the StateMachine only", pinned, rev.Finalizers, rev.OwnerReferences, kstatesv1alpha1.FinalizerRevisionInUse)
	}

	fresh := makeExecution(ns, "new").stateMachine("m").obj()
	create(ctx, t, fresh)
	completePod(ctx, t, taskPod(ctx, t, ns, fresh, "T", 0), 0, `"r"`)
	got = waitPhase(ctx, t, ns, "new", kstatesv1alpha1.ExecutionSucceeded)
	if got.Status.Revision == pinned || !jsonEq(got.Status.Output, `{"v2":"r","done":"v2"}`) {
		t.Errorf("new execution: revision %s output %s", got.Status.Revision, got.Status.Output)
	}
}

// Input that is not JSON fails that execution with States.Runtime naming spec.input; another
// execution of the same StateMachine is unaffected.
func TestExecutionWithInvalidInputFailsAlone(t *testing.T) {
	ctx, ns := setup(t)
	startManager(t, ns, nil)
	create(ctx, t, makeStateMachine(ns, "m", `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`).obj())
	create(ctx, t, makeExecution(ns, "bad").stateMachine("m").input(`{"a":`).obj(),
		makeExecution(ns, "good").stateMachine("m").input(`{"a":1}`).obj())
	bad := waitPhase(ctx, t, ns, "bad", kstatesv1alpha1.ExecutionFailed)
	if bad.Status.Error != "States.Runtime" || !strings.Contains(bad.Status.Cause, "spec.input") {
		t.Errorf("error %q cause %q, want States.Runtime naming spec.input", bad.Status.Error, bad.Status.Cause)
	}
	good := waitPhase(ctx, t, ns, "good", kstatesv1alpha1.ExecutionSucceeded)
	if !jsonEq(good.Status.Output, `{"a":1}`) {
		t.Errorf("good output %s", good.Status.Output)
	}
}

// An execution of a StateMachine that does not exist (or is invalid) waits, Pending, with a
// condition saying why, and starts once the StateMachine exists and is valid.
func TestExecutionWaitsForItsStateMachine(t *testing.T) {
	ctx, ns := setup(t)
	startManager(t, ns, nil)
	e := makeExecution(ns, "early").stateMachine("later").obj()
	create(ctx, t, e)
	waitFor(ctx, t, e, "StateMachineNotFound", func(e *kstatesv1alpha1.Execution) bool {
		c := condition(e.Status.Conditions, kstatesv1alpha1.ConditionStateMachineResolved)
		return e.Status.Phase == kstatesv1alpha1.ExecutionPending && c != nil && c.Status == metav1.ConditionFalse &&
			c.Reason == kstatesv1alpha1.ReasonStateMachineNotFound && strings.Contains(c.Message, `"later"`)
	})
	waitEvent(ctx, t, ns, "early", "Waiting", `StateMachine "later" (spec.stateMachineName) does not exist`)
	sm := makeStateMachine(ns, "later", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Missing"}}}`).obj()
	create(ctx, t, sm)
	waitFor(ctx, t, e, "StateMachineInvalid", func(e *kstatesv1alpha1.Execution) bool {
		c := condition(e.Status.Conditions, kstatesv1alpha1.ConditionStateMachineResolved)
		return e.Status.Phase == kstatesv1alpha1.ExecutionPending && c != nil && c.Reason == kstatesv1alpha1.ReasonStateMachineInvalid &&
			strings.Contains(c.Message, "/States/A/Next")
	})
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(sm), sm); err != nil {
		t.Fatal(err)
	}
	sm.Spec.DefinitionString = `{"StartAt":"A","States":{"A":{"Type":"Pass","Result":"ran","End":true}}}`
	if err := k8sClient.Update(ctx, sm); err != nil {
		t.Fatal(err)
	}
	got := waitPhase(ctx, t, ns, "early", kstatesv1alpha1.ExecutionSucceeded)
	c := condition(got.Status.Conditions, kstatesv1alpha1.ConditionStateMachineResolved)
	if got.Status.Output != `"ran"` || c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("output %s condition %+v", got.Status.Output, c)
	}
}

// An EXPRESS execution runs in memory and records only its result.
func TestExpressExecutionRecordsOnlyTheResult(t *testing.T) {
	ctx, ns := setup(t)
	startManager(t, ns, nil)
	create(ctx, t, makeStateMachine(ns, "fast", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"sum.$":"States.MathAdd($.a, 1)"},"Next":"B"},"B":{"Type":"Succeed"}}}`).express().obj(),
		makeExecution(ns, "x").stateMachine("fast").input(`{"a":41}`).obj())
	got := waitPhase(ctx, t, ns, "x", kstatesv1alpha1.ExecutionSucceeded)
	if !jsonEq(got.Status.Output, `{"sum":42}`) || len(got.Status.History.Events) != 0 || got.Status.History.EventCount != 6 ||
		got.Status.EngineState != nil || got.Status.StopTime == nil {
		t.Errorf("express status: %+v", got.Status)
	}
}

// Every transition is its own status write: watching the execution sees each state as it
// is entered, and no write adds more than one state's events.
func TestExecutionCommitsOneTransitionPerWrite(t *testing.T) {
	ctx, ns := setup(t)
	startManager(t, ns, nil)
	create(ctx, t, makeStateMachine(ns, "chain", `{"StartAt":"A","States":{
		"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"C"},"C":{"Type":"Pass","Next":"D"},"D":{"Type":"Pass","End":true}}}`).obj())
	list := &kstatesv1alpha1.ExecutionList{}
	wc, err := client.NewWithWatch(restConfig, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	w, err := wc.Watch(ctx, list, client.InNamespace(ns))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	create(ctx, t, makeExecution(ns, "e").stateMachine("chain").obj())
	var counts []int64
	var states []string
	timeout := time.After(waitTimeout)
	for done := false; !done; {
		select {
		case ev := <-w.ResultChan():
			if ev.Type != watch.Modified {
				continue
			}
			e := ev.Object.(*kstatesv1alpha1.Execution)
			if e.Status.Phase == kstatesv1alpha1.ExecutionPending {
				continue // written before the StateMachine was validated
			}
			counts = append(counts, e.Status.History.EventCount)
			states = append(states, e.Status.CurrentState)
			done = e.Status.Phase.IsFinal()
		case <-timeout:
			t.Fatalf("no final phase; event counts seen %v", counts)
		}
	}
	// Writes: ExecutionStarted + A entered and exited (B is next); B entered and exited; C;
	// D entered and exited + ExecutionSucceeded.
	if joined(states) != "B,C,D," {
		t.Errorf("current states seen per write %q, want B,C,D then none", joined(states))
	}
	if fmt.Sprint(counts) != "[3 5 7 10]" {
		t.Errorf("event counts per write %v, want [3 5 7 10]", counts)
	}
}

// Long histories are sealed into HistoryChunks: every event is kept, in order, and the window
// in the status stays within its budget.
func TestLongHistoryIsSealedIntoChunks(t *testing.T) {
	ctx, ns := setup(t)
	startManager(t, ns, nil)
	// A loop of 60 rounds, 2 states a round: 4 events a round, about 240 events.
	create(ctx, t, makeStateMachine(ns, "loop", `{"StartAt":"Inc","States":{
		"Inc":{"Type":"Pass","Parameters":{"i.$":"States.MathAdd($.i, 1)"},"Next":"More"},
		"More":{"Type":"Choice","Choices":[{"Variable":"$.i","NumericLessThan":60,"Next":"Inc"}],"Default":"Done"},
		"Done":{"Type":"Succeed"}}}`).obj(),
		makeExecution(ns, "long").stateMachine("loop").input(`{"i":0}`).obj())
	got := waitPhase(ctx, t, ns, "long", kstatesv1alpha1.ExecutionSucceeded)
	if got.Status.Output != `{"i":60}` {
		t.Errorf("output %s", got.Status.Output)
	}
	h := got.Status.History
	if h.ChunkCount < 3 || len(h.Events) > kstatesv1alpha1.WindowEvents || h.EventCount != 244 {
		t.Errorf("history: %d chunks, %d events in the window, eventCount %d", h.ChunkCount, len(h.Events), h.EventCount)
	}
	types := historyTypes(ctx, t, got) // checks contiguous ids 1..eventCount across chunks and window
	if types[0] != "ExecutionStarted" || types[len(types)-1] != "ExecutionSucceeded" {
		t.Errorf("history starts %s and ends %s", types[0], types[len(types)-1])
	}
	chunks := &kstatesv1alpha1.HistoryChunkList{}
	if err := k8sClient.List(ctx, chunks, client.InNamespace(ns), client.MatchingLabels{kstatesv1alpha1.LabelExecutionUID: string(got.UID)}); err != nil {
		t.Fatal(err)
	}
	if int32(len(chunks.Items)) != h.ChunkCount {
		t.Errorf("%d chunks listed by label, status says %d", len(chunks.Items), h.ChunkCount)
	}
	for _, c := range chunks.Items {
		if o := metav1.GetControllerOf(&c); o == nil || o.UID != got.UID {
			t.Errorf("chunk %s is not owned by the execution", c.Name)
		}
	}
}

// Time comes from an injected clock: a Wait of an hour and an execution timeout of two hours
// pass when the clock says so, not in real time.
func TestTimersFollowTheInjectedClock(t *testing.T) {
	ctx, ns := setup(t)
	clk := clocktesting.NewFakePassiveClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	startManager(t, ns, clk)
	create(ctx, t, makeStateMachine(ns, "slow", `{"TimeoutSeconds":7200,"StartAt":"W","States":{
		"W":{"Type":"Wait","Seconds":3600,"Next":"W2"},"W2":{"Type":"Wait","Seconds":7200,"End":true}}}`).obj())
	e := makeExecution(ns, "e").stateMachine("slow").obj()
	create(ctx, t, e)
	waitFor(ctx, t, e, "the Wait's deadline", func(e *kstatesv1alpha1.Execution) bool {
		return e.Status.NextDeadline != nil && e.Status.CurrentState == "W"
	})
	if want := clk.Now().Add(time.Hour); !e.Status.NextDeadline.Time.Equal(want) {
		t.Errorf("nextDeadline %v, want %v", e.Status.NextDeadline.Time, want)
	}
	poke := func(n string) {
		p := client.RawPatch("application/merge-patch+json", []byte(`{"metadata":{"annotations":{"test/poke":"`+n+`"}}}`))
		if err := k8sClient.Patch(ctx, e, p); err != nil {
			t.Fatal(err)
		}
	}
	poke("1") // nothing is due: it keeps waiting
	sleep(0.5)
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(e), e); err != nil || e.Status.CurrentState != "W" {
		t.Fatalf("before the deadline: current %q (err %v)", e.Status.CurrentState, err)
	}
	clk.SetTime(clk.Now().Add(time.Hour))
	poke("2")
	waitFor(ctx, t, e, "the second Wait", func(e *kstatesv1alpha1.Execution) bool { return e.Status.CurrentState == "W2" })
	clk.SetTime(clk.Now().Add(time.Hour))
	poke("3")
	got := waitPhase(ctx, t, ns, "e", kstatesv1alpha1.ExecutionTimedOut)
	if got.Status.Duration != "2h0m0s" || got.Status.Error != "States.Timeout" {
		t.Errorf("duration %q error %q, want 2h0m0s and States.Timeout", got.Status.Duration, got.Status.Error)
	}
}

// Lifecycle changes are Kubernetes Events on the Execution, and counted in the Prometheus
// metrics the manager serves.
func TestExecutionLifecycleEventsAndMetrics(t *testing.T) {
	ctx, ns := setup(t)
	startManager(t, ns, nil)
	started := counterValue(metrics.ExecutionsStarted.WithLabelValues("STANDARD"))
	failed := counterValue(metrics.ExecutionsFinished.WithLabelValues(metrics.StatusFailed))
	transitions := counterValue(metrics.StateTransitions)
	create(ctx, t, makeStateMachine(ns, "m", `{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"F"},"F":{"Type":"Fail","Error":"E","Cause":"C"}}}`).obj(),
		makeExecution(ns, "e").stateMachine("m").obj())
	waitPhase(ctx, t, ns, "e", kstatesv1alpha1.ExecutionFailed)
	if d := counterValue(metrics.ExecutionsStarted.WithLabelValues("STANDARD")) - started; d != 1 {
		t.Errorf("executions started went up by %v, want 1", d)
	}
	if d := counterValue(metrics.ExecutionsFinished.WithLabelValues(metrics.StatusFailed)) - failed; d != 1 {
		t.Errorf("executions failed went up by %v, want 1", d)
	}
	// The metrics are updated after the status write the test saw: give them a moment.
	for i := 0; i < 50 && counterValue(metrics.StateTransitions)-transitions < 2; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if d := counterValue(metrics.StateTransitions) - transitions; d != 2 {
		t.Errorf("state transitions went up by %v, want 2 (P, F)", d)
	}
	deadline := time.Now().Add(waitTimeout)
	for {
		evs := &eventsv1.EventList{}
		if err := k8sClient.List(ctx, evs, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		var reasons []string
		for _, ev := range evs.Items {
			if ev.Regarding.Name == "e" && ev.Regarding.Kind == "Execution" {
				reasons = append(reasons, ev.Reason+"/"+ev.Type)
			}
		}
		if strings.Contains(joined(reasons), "Started/"+corev1.EventTypeNormal) && strings.Contains(joined(reasons), "Failed/"+corev1.EventTypeWarning) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("events %v, want Started and Failed", reasons)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitEvent waits for an Event about the execution with the reason and a note containing text.
func waitEvent(ctx context.Context, t *testing.T, ns, name, reason, text string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		evs := &eventsv1.EventList{}
		if err := k8sClient.List(ctx, evs, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		var seen []string
		for _, ev := range evs.Items {
			if ev.Regarding.Name == name && ev.Regarding.Kind == "Execution" {
				if ev.Reason == reason && strings.Contains(ev.Note, text) {
					return
				}
				seen = append(seen, ev.Reason+": "+ev.Note)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s event containing %q; events: %v", reason, text, seen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// counterValue reads a Prometheus counter.
func counterValue(c prometheus.Counter) float64 {
	m := &dto.Metric{}
	if err := c.Write(m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

// An execution that never started (its StateMachine is missing) can be aborted too.
func TestPendingExecutionCanBeAborted(t *testing.T) {
	ctx, ns := setup(t)
	startManager(t, ns, nil)
	e := makeExecution(ns, "e").stateMachine("missing").obj()
	create(ctx, t, e)
	waitFor(ctx, t, e, "Pending", func(e *kstatesv1alpha1.Execution) bool { return e.Status.Phase == kstatesv1alpha1.ExecutionPending })
	patch := client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"abort":{"error":"User.Cancel","cause":"not needed"}}}`))
	if err := k8sClient.Patch(ctx, e, patch); err != nil {
		t.Fatal(err)
	}
	got := waitPhase(ctx, t, ns, "e", kstatesv1alpha1.ExecutionAborted)
	if got.Status.Error != "User.Cancel" || got.Status.Cause != "not needed" || got.Status.Revision != "" {
		t.Errorf("status %+v", got.Status)
	}
}

// Throughput of concurrent executions of a 20-state chain, for the record (not asserted:
// tests never assert on speed).
func TestConcurrentChainsThroughput(t *testing.T) {
	ctx, ns := setup(t)
	startManager(t, ns, nil)
	var states []string
	for i := 0; i < 20; i++ {
		next := fmt.Sprintf(`"Next":"S%d"`, i+1)
		if i == 19 {
			next = `"End":true`
		}
		states = append(states, fmt.Sprintf(`"S%d":{"Type":"Pass",%s}`, i, next))
	}
	create(ctx, t, makeStateMachine(ns, "chain", `{"StartAt":"S0","States":{`+strings.Join(states, ",")+`}}`).obj())
	waitFor(ctx, t, &kstatesv1alpha1.StateMachine{ObjectMeta: metaName(ns, "chain")}, "validity", func(sm *kstatesv1alpha1.StateMachine) bool {
		return sm.Status.CurrentRevision != ""
	})
	const n = 20
	start := time.Now()
	for i := 0; i < n; i++ {
		create(ctx, t, makeExecution(ns, fmt.Sprintf("e%d", i)).stateMachine("chain").input(`{"i":1}`).obj())
	}
	for i := 0; i < n; i++ {
		waitPhase(ctx, t, ns, fmt.Sprintf("e%d", i), kstatesv1alpha1.ExecutionSucceeded)
	}
	d := time.Since(start)
	t.Logf("%d executions x 20 states: %d transitions in %v, %.0f transitions/s (in-process manager, 8 workers)", n, n*20, d.Round(time.Millisecond), float64(n*20)/d.Seconds())
}

// The context object names the execution with an ARN-like URI of its namespace and name.
func TestContextObjectNamesTheExecution(t *testing.T) {
	ctx, ns := setup(t)
	startManager(t, ns, nil)
	create(ctx, t, makeStateMachine(ns, "ctx", `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true,
		"Parameters":{"id.$":"$$.Execution.Id","name.$":"$$.Execution.Name","sm.$":"$$.StateMachine.Id","smName.$":"$$.StateMachine.Name"}}}}`).obj(),
		makeExecution(ns, "run-1").stateMachine("ctx").obj())
	got := waitPhase(ctx, t, ns, "run-1", kstatesv1alpha1.ExecutionSucceeded)
	want := fmt.Sprintf(`{"id":"arn:kstates:states:%s:execution:ctx:run-1","name":"run-1","sm":"arn:kstates:states:%s:stateMachine:ctx","smName":"ctx"}`, ns, ns)
	if !jsonEq(got.Status.Output, want) {
		t.Errorf("output %s, want %s", got.Status.Output, want)
	}
}

// A manager that stops mid-execution and a new one that starts resume from the status alone:
// the running task keeps its one pod, a pending timer is read from the status, and the
// history has no gap or repetition.
func TestANewManagerResumesFromTheStatus(t *testing.T) {
	ctx, ns := setup(t)
	stop := startManagerWith(t, ns, nil, nil)
	create(ctx, t, makeStateMachine(ns, "m", `{"StartAt":"T","States":{
		"T":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":"x"},"ResultPath":"$.t","Next":"W"},
		"W":{"Type":"Wait","Seconds":2,"Next":"P"},
		"P":{"Type":"Pass","Result":"done","ResultPath":"$.p","End":true}}}`).obj())
	e := makeExecution(ns, "e").stateMachine("m").obj()
	create(ctx, t, e)
	pod := taskPod(ctx, t, ns, e, "T", 0)
	// The pod is created before the status write that records it: wait for that write.
	waitFor(ctx, t, e, "the Task recorded", func(e *kstatesv1alpha1.Execution) bool { return e.Status.CurrentState == "T" })
	stop()
	completePod(ctx, t, pod, 0, `"ok"`)
	sleep(0.5)
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(e), e); err != nil || e.Status.CurrentState != "T" {
		t.Fatalf("with no manager the execution moved on: %q (err %v)", e.Status.CurrentState, err)
	}
	stop = startManagerWith(t, ns, nil, nil)
	waitFor(ctx, t, e, "the Wait", func(e *kstatesv1alpha1.Execution) bool { return e.Status.CurrentState == "W" })
	stop()
	startManagerWith(t, ns, nil, nil)
	got := waitPhase(ctx, t, ns, "e", kstatesv1alpha1.ExecutionSucceeded)
	if !jsonEq(got.Status.Output, `{"t":"ok","p":"done"}`) {
		t.Errorf("output %s", got.Status.Output)
	}
	want := "ExecutionStarted,TaskStateEntered,TaskScheduled,TaskStarted,TaskSucceeded,TaskStateExited," +
		"WaitStateEntered,WaitStateExited,PassStateEntered,PassStateExited,ExecutionSucceeded"
	if h := joined(historyTypes(ctx, t, got)); h != want {
		t.Errorf("history %s\nwant %s", h, want)
	}
	pods := &corev1.PodList{}
	if err := k8sClient.List(ctx, pods, client.InNamespace(ns)); err != nil || len(pods.Items) != 1 {
		t.Errorf("%d pods (err %v), want 1", len(pods.Items), err)
	}
}
