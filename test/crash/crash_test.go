package crash

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/controllers"
	"github.com/kstates/kstates/internal/engine"
	"github.com/kstates/kstates/internal/podtask"
	"github.com/kstates/kstates/test/testenv"
)

// The crash test (issue 4, "Must show"): the manager, both reconcilers in this process, is
// killed at random points of multi-state executions and started afresh, at least 50 times,
// including right after it created a task pod and before the status said the task runs.
// The same executions run in a second namespace under a manager that never crashes; every
// execution must end with the same phase, output, error and cause, the same history (ids,
// previous ids, types, state names, details), and exactly one pod per task attempt, each
// created once.

// workResource is the Task Resource of every task; the StateMachines bind it to a container.
const workResource = "arn:aws:lambda:us-east-1:123456789012:function:Work"

// definitions mix Pass, Choice, Task pods, Wait, Parallel, Map, Retry (a task that fails and
// then succeeds), Catch, and an execution that fails after its retries.
var definitions = map[string]string{
	"sequence": `{"StartAt":"Init","States":{
		"Init":{"Type":"Pass","Result":{"n":1,"route":"long"},"Next":"Route"},
		"Route":{"Type":"Choice","Choices":[{"Variable":"$.route","StringEquals":"long","Next":"Work"}],"Default":"Done"},
		"Work":{"Type":"Task","Resource":"WORK","ResultPath":"$.work","Next":"Pause"},
		"Pause":{"Type":"Wait","Seconds":1,"Next":"FlakyStep"},
		"FlakyStep":{"Type":"Task","Resource":"WORK","ResultPath":"$.flaky","Next":"Done",
			"Retry":[{"ErrorEquals":["Flaky.Error"],"IntervalSeconds":1,"MaxAttempts":2,"BackoffRate":1}]},
		"Done":{"Type":"Succeed"}}}`,
	"parallel": `{"StartAt":"Fan","States":{
		"Fan":{"Type":"Parallel","ResultPath":"$.fan","Next":"BrokenStep","Branches":[
			{"StartAt":"Left","States":{"Left":{"Type":"Task","Resource":"WORK","End":true}}},
			{"StartAt":"Prep","States":{
				"Prep":{"Type":"Pass","Result":{"n":2},"Next":"Right"},
				"Right":{"Type":"Task","Resource":"WORK","Next":"RightCheck"},
				"RightCheck":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericEquals":2,"Next":"RightOk"}],"Default":"RightBad"},
				"RightOk":{"Type":"Pass","End":true},
				"RightBad":{"Type":"Fail","Error":"Unexpected"}}}]},
		"BrokenStep":{"Type":"Task","Resource":"WORK","End":true,
			"Catch":[{"ErrorEquals":["Broken.Error"],"ResultPath":"$.caught","Next":"Recover"}]},
		"Recover":{"Type":"Pass","Parameters":{"recovered.$":"$.caught.Error","fan.$":"$.fan"},"End":true}}}`,
	"map": `{"StartAt":"Items","States":{
		"Items":{"Type":"Pass","Result":[{"n":1},{"n":2},{"n":3}],"ResultPath":"$.items","Next":"Each"},
		"Each":{"Type":"Map","ItemsPath":"$.items","ResultPath":"$.mapped","Next":"Count",
			"ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"Item","States":{
				"Item":{"Type":"Task","Resource":"WORK","Next":"ItemDone"},
				"ItemDone":{"Type":"Pass","End":true}}}},
		"Count":{"Type":"Choice","Choices":[{"Variable":"$.mapped[2].n","NumericEquals":3,"Next":"Ok"}],"Default":"Bad"},
		"Ok":{"Type":"Succeed"},
		"Bad":{"Type":"Fail","Error":"Unexpected"}}}`,
	"failing": `{"StartAt":"Try","States":{
		"Try":{"Type":"Task","Resource":"WORK","Next":"BrokenAgain"},
		"BrokenAgain":{"Type":"Task","Resource":"WORK","End":true,
			"Retry":[{"ErrorEquals":["Broken.Error"],"IntervalSeconds":1,"MaxAttempts":1}],
			"Catch":[{"ErrorEquals":["Other.Error"],"Next":"Never"}]},
		"Never":{"Type":"Succeed"}}}`,
}

// copiesPerDefinition executions of each definition run in each namespace.
const copiesPerDefinition = 5

// minCrashes is the "at least 50 times"; minPodCrashes of them must fall between a pod
// creation and the status write that records it.
const (
	minCrashes    = 50
	minPodCrashes = 10
)

func TestManagerCrashesAtRandomPoints(t *testing.T) {
	if skipReason != "" {
		t.Skip(skipReason)
	}
	testenv.SetLogger()
	seed := uint64(20261128)
	if s := os.Getenv("KSTATES_CRASH_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("KSTATES_CRASH_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("crash points from seed %d (set KSTATES_CRASH_SEED to change it)", seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	refNS, crashNS := namespace(ctx, t, "kstates-ref-"), namespace(ctx, t, "kstates-crash-")
	refPods, crashPods := watchPods(ctx, t, refNS), watchPods(ctx, t, crashNS)
	names := populate(ctx, t, refNS)
	populate(ctx, t, crashNS)

	// The kubelets: one per namespace, completing task pods one at a time in a fixed order.
	kctx, stopKubelets := context.WithCancel(ctx)
	var kwg sync.WaitGroup
	for _, ns := range []string{refNS, crashNS} {
		kwg.Add(1)
		go func() { defer kwg.Done(); kubelet(kctx, t, ns) }()
	}
	defer func() { stopKubelets(); kwg.Wait() }()

	// The reference: a manager that never crashes.
	refJournal := &podJournal{}
	ref := startLife(t, refNS, crashPlan{}, refJournal, func(string, int) {})
	defer ref.stop()

	// The crashing manager: one life after another until every execution has ended.
	journal := &podJournal{}
	crashes, podCrashes := 0, 0
	for life := 1; ; life++ {
		plan := crashPlan{afterWrites: 1 + rng.IntN(4)}
		if rng.IntN(10) < 3 {
			plan = crashPlan{afterPodCreates: 1 + rng.IntN(2)}
		}
		crashed := make(chan string, 1)
		began := time.Now()
		l := startLife(t, crashNS, plan, journal, func(what string, n int) {
			crashed <- fmt.Sprintf("%s (write %d of this life)", what, n)
		})
		ended := false
		for !ended {
			select {
			case what := <-crashed:
				lived := time.Since(began)
				l.wait()
				crashes++
				if plan.afterPodCreates > 0 {
					podCrashes++
				}
				t.Logf("life %d (%s): crashed after %v %s (stopped in %v)", life, plan, lived.Round(time.Millisecond), what, (time.Since(began) - lived).Round(time.Millisecond))
				ended = true
			case <-time.After(100 * time.Millisecond):
				if allFinal(ctx, t, crashNS) {
					l.stop()
					ended = true
				}
			case <-ctx.Done():
				l.stop()
				dump(t, crashNS)
				t.Fatalf("the executions did not end within the test's time (life %d, %d crashes)", life, crashes)
			}
		}
		if allFinal(ctx, t, crashNS) {
			t.Logf("every execution ended after %d lives of the manager: %d crashes, %d of them right after creating a task pod", life, crashes, podCrashes)
			break
		}
	}
	waitAllFinal(ctx, t, refNS)
	if crashes < minCrashes || podCrashes < minPodCrashes {
		t.Errorf("%d crashes (%d after a pod creation), want at least %d (%d): the workload is too small for the plan", crashes, podCrashes, minCrashes, minPodCrashes)
	}

	time.Sleep(time.Second) // let the watches catch up
	refPods.check(t, listPods(ctx, t, refNS))
	crashPods.check(t, listPods(ctx, t, crashNS))
	for _, name := range names {
		want := getExecution(ctx, t, refNS, name)
		got := getExecution(ctx, t, crashNS, name)
		compareOutcome(t, name, want, got)
		wantHist, gotHist := readHistory(ctx, t, want), readHistory(ctx, t, got)
		compareHistory(t, name, refNS, crashNS, wantHist, gotHist)
		wantPods := taskAttempts(ctx, t, want, refJournal)
		gotPods := taskAttempts(ctx, t, got, journal)
		if !reflect.DeepEqual(wantPods, gotPods) {
			t.Errorf("%s: task attempts (state thread attempt) %v, the uninterrupted run had %v", name, gotPods, wantPods)
		}
		if n := countType(gotHist, "TaskScheduled"); n != len(gotPods) {
			t.Errorf("%s: %d TaskScheduled events but %d task pods", name, n, len(gotPods))
		}
	}
}

// --- the workload ---

func namespace(ctx context.Context, t *testing.T, prefix string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix}}
	if err := k8sClient.Create(ctx, ns); err != nil {
		t.Fatalf("creating a namespace: %v", err)
	}
	return ns.Name
}

// populate creates the StateMachines and their executions in ns and returns the executions'
// names.
func populate(ctx context.Context, t *testing.T, ns string) []string {
	t.Helper()
	var names []string
	keys := make([]string, 0, len(definitions))
	for k := range definitions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		sm := &kstatesv1alpha1.StateMachine{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: k}}
		sm.Spec.DefinitionString = strings.ReplaceAll(definitions[k], "WORK", workResource)
		sm.Spec.Bindings = []kstatesv1alpha1.TaskBinding{{Resource: workResource, Container: kstatesv1alpha1.TaskContainer{Image: "registry.example/work:1"}}}
		if err := k8sClient.Create(ctx, sm); err != nil {
			t.Fatalf("creating StateMachine %s: %v", k, err)
		}
		for i := range copiesPerDefinition {
			e := &kstatesv1alpha1.Execution{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s-%d", k, i)}}
			e.Spec.StateMachineName = k
			e.Spec.Input = fmt.Sprintf(`{"copy":%d}`, i)
			if err := k8sClient.Create(ctx, e); err != nil {
				t.Fatalf("creating Execution %s: %v", e.Name, err)
			}
			names = append(names, e.Name)
		}
	}
	return names
}

// --- one life of the manager ---

type life struct {
	cancel context.CancelFunc
	done   chan error
	t      *testing.T
}

// startLife starts a manager with both reconcilers on a faultClient with the plan.
func startLife(t *testing.T, ns string, plan crashPlan, journal *podJournal, onCrash func(string, int)) *life {
	t.Helper()
	mgr, err := ctrl.NewManager(restConfig, testenv.ManagerOptions(scheme, ns, 4))
	if err != nil {
		t.Fatalf("creating the manager: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	fc := &faultClient{Client: mgr.GetClient(), plan: plan, journal: journal}
	fc.crash = func(what string, n int) {
		cancel()
		onCrash(what, n)
	}
	if err := (&controllers.StateMachineReconciler{Client: fc}).SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	if err := (&controllers.ExecutionReconciler{Client: fc, APIReader: mgr.GetAPIReader()}).SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	l := &life{cancel: cancel, done: make(chan error, 1), t: t}
	go func() { l.done <- mgr.Start(ctx) }()
	return l
}

// wait waits for a crashed manager to stop.
func (l *life) wait() {
	if err := <-l.done; err != nil {
		l.t.Errorf("manager: %v", err)
	}
	l.done <- nil
}

// stop stops the manager (idempotent).
func (l *life) stop() {
	l.cancel()
	l.wait()
}

// --- the kubelet ---

// kubelet completes task pods as a kubelet would, deterministically, so that the crashing and
// the uninterrupted runs see the same world: it completes one pod of an execution at a time,
// only when the committed status has nothing else to do (no ready threads, no Wait or Retry
// timer pending, every running task's pod still running), and the first such pod in thread
// order. A task's result depends only on its state, attempt and input.
func kubelet(ctx context.Context, t *testing.T, ns string) {
	for ctx.Err() == nil {
		if err := kubeletPass(ctx, ns); err != nil && ctx.Err() == nil {
			// A conflict or a slow API server: the next pass tries again.
			t.Logf("kubelet in %s: %v", ns, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func kubeletPass(ctx context.Context, ns string) error {
	execs := &kstatesv1alpha1.ExecutionList{}
	if err := k8sClient.List(ctx, execs, client.InNamespace(ns)); err != nil {
		return err
	}
	for i := range execs.Items {
		e := &execs.Items[i]
		if e.Status.Phase.IsFinal() || e.Status.EngineState == nil {
			continue
		}
		ex, err := engine.UnmarshalExecution(e.Status.EngineState.Raw)
		if err != nil {
			return fmt.Errorf("%s: %v", e.Name, err)
		}
		tasks, busy := runningTasks(ex)
		if busy || len(ex.Queue) > 0 || len(tasks) == 0 {
			continue
		}
		pods := &corev1.PodList{}
		if err := k8sClient.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels{kstatesv1alpha1.LabelExecutionUID: string(e.UID)}); err != nil {
			return err
		}
		byAttempt := map[string]*corev1.Pod{}
		for j := range pods.Items {
			p := &pods.Items[j]
			byAttempt[p.Annotations[podtask.StateAnnotation]+"|"+p.Annotations[podtask.ThreadAnnotation]+"#"+p.Labels[podtask.AttemptLabel]] = p
		}
		var next *corev1.Pod
		settled := true
		for _, key := range tasks {
			p := byAttempt[key]
			if p == nil || podtask.Finished(p) != nil {
				// Not created yet, or finished and not yet seen by the controller.
				settled = false
				break
			}
			if next == nil {
				next = p
			}
		}
		if settled && next != nil {
			if err := complete(ctx, next); err != nil {
				return fmt.Errorf("completing %s: %v", next.Name, err)
			}
		}
	}
	return nil
}

// runningTasks lists "state|thread#attempt" of the threads running a task, in thread order, and
// says whether a timer (Wait, Retry back-off) is pending.
func runningTasks(ex *engine.Execution) (tasks []string, busy bool) {
	var walk func(th *engine.Thread)
	walk = func(th *engine.Thread) {
		switch th.Phase {
		case engine.PhaseTask:
			tasks = append(tasks, th.State+"|"+th.ID+"#"+strconv.Itoa(th.Attempt))
		case engine.PhaseWait, engine.PhaseRetry, engine.PhaseReady:
			busy = true
		}
		for _, c := range th.Children {
			walk(c)
		}
	}
	walk(ex.Root)
	sort.Strings(tasks)
	return tasks, busy
}

// complete writes the pod's status as a kubelet does when its container ends. States named
// Flaky* fail their first attempt, Broken* always fail, the others succeed.
func complete(ctx context.Context, pod *corev1.Pod) error {
	state := pod.Annotations[podtask.StateAnnotation]
	attempt, _ := strconv.Atoi(pod.Labels[podtask.AttemptLabel])
	var in map[string]any
	_ = json.Unmarshal([]byte(pod.Annotations[podtask.InputAnnotation]), &in)
	code, msg := int32(0), ""
	switch {
	case strings.HasPrefix(state, "Flaky") && attempt == 0:
		code, msg = 1, `{"Error":"Flaky.Error","Cause":"the first attempt fails"}`
	case strings.HasPrefix(state, "Broken"):
		code, msg = 1, `{"Error":"Broken.Error","Cause":"always fails"}`
	default:
		out, _ := json.Marshal(map[string]any{"by": state, "attempt": attempt, "n": in["n"], "copy": in["copy"]})
		msg = string(out)
	}
	testenv.EndPod(pod, code, msg)
	return k8sClient.Status().Update(ctx, pod)
}

// --- reading and comparing ---

func allFinal(ctx context.Context, t *testing.T, ns string) bool {
	t.Helper()
	execs := &kstatesv1alpha1.ExecutionList{}
	if err := k8sClient.List(ctx, execs, client.InNamespace(ns)); err != nil {
		t.Fatalf("listing executions: %v", err)
	}
	for _, e := range execs.Items {
		if !e.Status.Phase.IsFinal() {
			return false
		}
	}
	return len(execs.Items) > 0
}

func waitAllFinal(ctx context.Context, t *testing.T, ns string) {
	t.Helper()
	for !allFinal(ctx, t, ns) {
		if ctx.Err() != nil {
			dump(t, ns)
			t.Fatalf("the executions in %s did not end", ns)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func dump(t *testing.T, ns string) {
	execs := &kstatesv1alpha1.ExecutionList{}
	if err := k8sClient.List(context.Background(), execs, client.InNamespace(ns)); err != nil {
		return
	}
	for _, e := range execs.Items {
		b, _ := json.Marshal(e.Status)
		t.Logf("%s: %s", e.Name, b)
	}
}

func getExecution(ctx context.Context, t *testing.T, ns, name string) *kstatesv1alpha1.Execution {
	t.Helper()
	e := &kstatesv1alpha1.Execution{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, e); err != nil {
		t.Fatalf("reading execution %s/%s: %v", ns, name, err)
	}
	return e
}

func compareOutcome(t *testing.T, name string, want, got *kstatesv1alpha1.Execution) {
	t.Helper()
	w, g := want.Status, got.Status
	if g.Phase != w.Phase || g.Error != w.Error || g.Cause != w.Cause {
		t.Errorf("%s: ended %s (%q, %q), the uninterrupted run %s (%q, %q)", name, g.Phase, g.Error, g.Cause, w.Phase, w.Error, w.Cause)
	}
	if g.OutputRef != nil || w.OutputRef != nil {
		t.Errorf("%s: outputs in payloads, expected inline ones", name)
	}
	if !sameJSON(g.Output, w.Output) {
		t.Errorf("%s: output %s, the uninterrupted run %s", name, g.Output, w.Output)
	}
	if w.Phase == kstatesv1alpha1.ExecutionSucceeded && w.Output == "" {
		t.Errorf("%s: no output", name)
	}
}

func sameJSON(a, b string) bool {
	if a == "" || b == "" {
		return a == b
	}
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// event is what is compared of a history event: everything but its timestamp.
type event struct {
	ID, Previous int64
	Type, State  string
	Details      string
}

// readHistory reads the whole history of an execution in order: its chunks, then the window,
// checking that ids are contiguous.
func readHistory(ctx context.Context, t *testing.T, e *kstatesv1alpha1.Execution) []event {
	t.Helper()
	h := e.Status.History
	var all []kstatesv1alpha1.HistoryEvent
	for i := int32(0); i < h.ChunkCount; i++ {
		c := &kstatesv1alpha1.HistoryChunk{}
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: e.Namespace, Name: kstatesv1alpha1.HistoryChunkName(h.ChunkPrefix, i)}, c); err != nil {
			t.Fatalf("%s: reading history chunk %d: %v", e.Name, i, err)
		}
		all = append(all, c.Spec.Events...)
	}
	all = append(all, h.Events...)
	out := make([]event, len(all))
	for i, ev := range all {
		if ev.ID != int64(i+1) {
			t.Fatalf("%s: event %d has id %d", e.Name, i+1, ev.ID)
		}
		out[i] = event{ID: ev.ID, Previous: ev.PreviousEventID, Type: ev.Type, State: ev.StateName}
		if ev.Details != nil {
			out[i].Details = normaliseDetails(ev.Details.Raw)
		}
		if ev.DetailsRef != nil {
			out[i].Details = "ref:" + ev.DetailsRef.SHA256
		}
	}
	if int64(len(out)) != h.EventCount {
		t.Fatalf("%s: %d events readable, eventCount %d", e.Name, len(out), h.EventCount)
	}
	return out
}

// normaliseDetails drops the values that differ between two runs of the same execution in
// different namespaces (names with the namespace, timestamps).
func normaliseDetails(raw []byte) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	var strip func(v any) any
	strip = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, y := range x {
				if strings.Contains(strings.ToLower(k), "time") {
					x[k] = "<time>"
					continue
				}
				x[k] = strip(y)
			}
		case []any:
			for i := range x {
				x[i] = strip(x[i])
			}
		case string:
			return nsRe(x)
		}
		return v
	}
	b, _ := json.Marshal(strip(v))
	return string(b)
}

// nsRe replaces the namespaces' names in strings.
func nsRe(s string) string {
	for _, p := range []string{"kstates-ref-", "kstates-crash-"} {
		if i := strings.Index(s, p); i >= 0 {
			j := i + len(p)
			for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			s = s[:i] + "<ns>" + s[j:]
		}
	}
	return s
}

func compareHistory(t *testing.T, name, refNS, crashNS string, want, got []event) {
	t.Helper()
	if reflect.DeepEqual(want, got) {
		return
	}
	n := min(len(want), len(got))
	for i := range n {
		if want[i] != got[i] {
			t.Errorf("%s: history differs at event %d:\n  got  %+v\n  want %+v", name, i+1, got[i], want[i])
			return
		}
	}
	t.Errorf("%s: %d history events, the uninterrupted run %d", name, len(got), len(want))
}

func countType(h []event, typ string) int {
	n := 0
	for _, e := range h {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// taskAttempts lists the execution's task pods as "state thread attempt", sorted, and checks
// that the API server answered at most one of the controller's creates of each with success
// (the pod watch checks that each was created exactly once).
func taskAttempts(ctx context.Context, t *testing.T, e *kstatesv1alpha1.Execution, j *podJournal) []string {
	t.Helper()
	pods := &corev1.PodList{}
	if err := k8sClient.List(ctx, pods, client.InNamespace(e.Namespace), client.MatchingLabels{kstatesv1alpha1.LabelExecutionUID: string(e.UID)}); err != nil {
		t.Fatal(err)
	}
	created := j.snapshot()
	var out []string
	for _, p := range pods.Items {
		if n := created[p.Name]; n > 1 {
			t.Errorf("%s: pod %s was created %d times (answers to the controller's creates)", e.Name, p.Name, n)
		}
		if !p.DeletionTimestamp.IsZero() {
			t.Errorf("%s: pod %s is being deleted", e.Name, p.Name)
		}
		out = append(out, p.Annotations[podtask.StateAnnotation]+" "+p.Annotations[podtask.ThreadAnnotation]+" "+p.Labels[podtask.AttemptLabel])
	}
	sort.Strings(out)
	return out
}

func listPods(ctx context.Context, t *testing.T, ns string) []corev1.Pod {
	t.Helper()
	pods := &corev1.PodList{}
	if err := k8sClient.List(ctx, pods, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	return pods.Items
}
