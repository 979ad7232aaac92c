package envtest

import (
	"context"
	"encoding/json"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/podtask"
)

// Large data goes into Payloads beside the Execution: an output over 16 KiB (outputRef),
// event details over 2 KiB (detailsRef) and the engine state's values over 8 KiB (parts of the
// state, referenced from its root document), which are deleted once the state no longer uses
// them.
func TestLargeDataIsStoredInPayloads(t *testing.T) {
	ctx, ns := setup(t)
	startManager(t, ns, nil)
	big := strings.Repeat("x", 20000)
	create(ctx, t, makeStateMachine(ns, "big", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}}`).obj())
	e := makeExecution(ns, "e").stateMachine("big").input(`{"data":"` + big + `"}`).obj()
	create(ctx, t, e)
	e = waitFor(ctx, t, e, "an engine state", func(e *kstatesv1alpha1.Execution) bool {
		return e.Status.EngineState != nil
	})
	if len(e.Status.EngineState.Raw) > 16384 || len(e.Status.History.Events) == 0 || e.Status.History.Events[0].DetailsRef == nil {
		t.Fatalf("while waiting: engineState inline %d bytes, first event %+v", len(e.Status.EngineState.Raw), e.Status.History.Events)
	}
	var stateRef string
	parts := &kstatesv1alpha1.PayloadList{}
	if err := k8sClient.List(ctx, parts, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, p := range parts.Items {
		if p.Spec.Purpose == kstatesv1alpha1.PayloadEngineState && strings.Contains(string(e.Status.EngineState.Raw), p.Spec.SHA256) {
			if !jsonEq(p.Spec.Data, `{"data":"`+big+`"}`) {
				t.Errorf("engine state part %s holds %d bytes, want the input", p.Name, len(p.Spec.Data))
			}
			stateRef = p.Name
		}
	}
	if stateRef == "" {
		t.Fatalf("no engine state payload holds the input; the root document is %d bytes", len(e.Status.EngineState.Raw))
	}
	got := waitPhase(ctx, t, ns, "e", kstatesv1alpha1.ExecutionSucceeded)
	if got.Status.Output != "" || got.Status.OutputRef == nil {
		t.Fatalf("output inline %d bytes, ref %+v", len(got.Status.Output), got.Status.OutputRef)
	}
	p := &kstatesv1alpha1.Payload{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: got.Status.OutputRef.Name}, p); err != nil {
		t.Fatal(err)
	}
	if !jsonEq(p.Spec.Data, `{"data":"`+big+`"}`) || p.Spec.Purpose != kstatesv1alpha1.PayloadOutput || p.Spec.SHA256 != got.Status.OutputRef.SHA256 {
		t.Errorf("output payload: purpose %s, %d bytes", p.Spec.Purpose, len(p.Spec.Data))
	}
	d := &kstatesv1alpha1.Payload{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: got.Status.History.Events[0].DetailsRef.Name}, d); err != nil {
		t.Fatal(err)
	}
	if d.Spec.Purpose != kstatesv1alpha1.PayloadEventDetails || !strings.Contains(d.Spec.Data, big) {
		t.Errorf("details payload: purpose %s", d.Spec.Purpose)
	}
	waitDeleted(ctx, t, &kstatesv1alpha1.Payload{ObjectMeta: metaName(ns, stateRef)})
}

// tasksOf waits until the execution has n unfinished task pods and returns them by state name.
func tasksOf(ctx context.Context, t *testing.T, e *kstatesv1alpha1.Execution, n int) []corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	waitFor(ctx, t, e, "task pods", func(e *kstatesv1alpha1.Execution) bool {
		list := &corev1.PodList{}
		if err := k8sClient.List(ctx, list, client.InNamespace(e.Namespace), client.MatchingLabels{kstatesv1alpha1.LabelExecutionUID: string(e.UID)}); err != nil {
			t.Fatal(err)
		}
		pods = pods[:0]
		for _, p := range list.Items {
			if podtask.Finished(&p) == nil {
				pods = append(pods, p)
			}
		}
		return len(pods) == n
	})
	sort.Slice(pods, func(i, j int) bool {
		return pods[i].Annotations[podtask.InputAnnotation] < pods[j].Annotations[podtask.InputAnnotation]
	})
	return pods
}

// Tasks inside Parallel branches and Map iterations run as pods at the same time, one pod per
// thread, and their outputs are collected in order.
func TestTasksRunInParallelBranchesAndMapIterations(t *testing.T) {
	ctx, ns := setup(t)
	startManager(t, ns, nil)
	create(ctx, t, makeStateMachine(ns, "fan", `{"StartAt":"Par","States":{
		"Par":{"Type":"Parallel","Next":"Each","ResultPath":"$.par","Branches":[
			{"StartAt":"T1","States":{"T1":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":"x","Input":"b0"},"End":true}}},
			{"StartAt":"T2","States":{"T2":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":"x","Input":"b1"},"End":true}}}]},
		"Each":{"Type":"Map","ItemsPath":"$.items","ResultPath":"$.map","End":true,
			"ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":"x","Input.$":"$"},"End":true}}}}}}`).obj())
	e := makeExecution(ns, "e").stateMachine("fan").input(`{"items":["i0","i1","i2"]}`).obj()
	create(ctx, t, e)
	pods := tasksOf(ctx, t, e, 2)
	if pods[0].Annotations[podtask.InputAnnotation] != `"b0"` || pods[1].Annotations[podtask.InputAnnotation] != `"b1"` {
		t.Fatalf("branch inputs %q %q", pods[0].Annotations[podtask.InputAnnotation], pods[1].Annotations[podtask.InputAnnotation])
	}
	e = waitFor(ctx, t, e, "two running branches", func(e *kstatesv1alpha1.Execution) bool {
		return e.Status.CurrentState == "Par (2 running)"
	})
	// Finish them in reverse order: the result keeps branch order.
	completePod(ctx, t, &pods[1], 0, `"out1"`)
	completePod(ctx, t, &pods[0], 0, `"out0"`)
	pods = tasksOf(ctx, t, e, 3)
	for i := range pods {
		completePod(ctx, t, &pods[i], 0, `{"done":`+pods[i].Annotations[podtask.InputAnnotation]+`}`)
	}
	got := waitPhase(ctx, t, ns, "e", kstatesv1alpha1.ExecutionSucceeded)
	want := `{"items":["i0","i1","i2"],"par":["out0","out1"],"map":[{"done":"i0"},{"done":"i1"},{"done":"i2"}]}`
	if !jsonEq(got.Status.Output, want) {
		t.Errorf("output %s, want %s", got.Status.Output, want)
	}
	all := &corev1.PodList{}
	if err := k8sClient.List(ctx, all, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(all.Items) != 5 {
		t.Errorf("%d pods, want exactly one per task: 5", len(all.Items))
	}
}

// A step that produces more events than a window holds (a Map of 150 items starts and ends
// every iteration at once) seals them straight into chunks, keeping ids contiguous.
func TestWideMapHistoryOverflowsIntoChunks(t *testing.T) {
	ctx, ns := setup(t)
	startManager(t, ns, nil)
	items := make([]string, 150)
	for i := range items {
		items[i] = strconv.Itoa(i)
	}
	create(ctx, t, makeStateMachine(ns, "wide", `{"StartAt":"M","States":{"M":{"Type":"Map","End":true,
		"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}}}}`).obj(),
		makeExecution(ns, "e").stateMachine("wide").input("["+strings.Join(items, ",")+"]").obj())
	got := waitPhase(ctx, t, ns, "e", kstatesv1alpha1.ExecutionSucceeded)
	if got.Status.Output != "["+strings.Join(items, ",")+"]" {
		t.Errorf("output %.80s...", got.Status.Output)
	}
	types := historyTypes(ctx, t, got)
	counts := map[string]int{}
	for _, ty := range types {
		counts[ty]++
	}
	if counts["MapIterationStarted"] != 150 || counts["MapIterationSucceeded"] != 150 || counts["PassStateEntered"] != 150 {
		t.Errorf("event counts %v", counts)
	}
	if len(got.Status.History.Events) > kstatesv1alpha1.WindowEvents || got.Status.History.ChunkCount < 2 {
		t.Errorf("window %d events, %d chunks", len(got.Status.History.Events), got.Status.History.ChunkCount)
	}
}

// statePartsOf lists the engine state parts (Payloads "<prefix>-s<hash>") of an execution.
func statePartsOf(ctx context.Context, t *testing.T, e *kstatesv1alpha1.Execution) []kstatesv1alpha1.Payload {
	t.Helper()
	list := &kstatesv1alpha1.PayloadList{}
	if err := k8sClient.List(ctx, list, client.InNamespace(e.Namespace), client.MatchingLabels{kstatesv1alpha1.LabelExecutionUID: string(e.UID)}); err != nil {
		t.Fatal(err)
	}
	prefix := kstatesv1alpha1.ExecutionObjectPrefix(e.Name, string(e.UID)) + "-s"
	var out []kstatesv1alpha1.Payload
	for _, p := range list.Items {
		if strings.HasPrefix(p.Name, prefix) {
			out = append(out, p)
		}
	}
	return out
}

// A Map of 40 iterations (more than a chunk's 32 threads) holding 2 KiB each keeps its
// iterations in chunks and their values in parts beside a small root document; a manager
// started afresh mid-run (nothing in memory) reads them back and runs to the end with the
// right output; and no state part is left behind.
func TestLargeMapStateIsSplitIntoParts(t *testing.T) {
	ctx, ns := setup(t)
	stop := startManagerWith(t, ns, nil, nil)
	def := `{"StartAt":"Items","States":{
		"Items":{"Type":"Pass","Parameters":{"items.$":"States.ArrayRange(1, 40, 1)"},"Next":"Each"},
		"Each":{"Type":"Map","ItemsPath":"$.items","ResultSelector":{"count.$":"States.ArrayLength($)"},"End":true,
			"ItemProcessor":{"StartAt":"Big","States":{
				"Big":{"Type":"Pass","Parameters":{"i.$":"$","s":"` + strings.Repeat("y", 2048) + `"},"Next":"Hold"},
				"Hold":{"Type":"Wait","Seconds":10,"Next":"Small"},
				"Small":{"Type":"Pass","Parameters":{"i.$":"$.i"},"End":true}}}}}}`
	create(ctx, t, makeStateMachine(ns, "split", def).obj())
	e := makeExecution(ns, "e").stateMachine("split").obj()
	create(ctx, t, e)
	e = waitFor(ctx, t, e, "every iteration holding in the Wait", func(e *kstatesv1alpha1.Execution) bool {
		return e.Status.EngineState != nil && strings.Contains(string(e.Status.EngineState.Raw), "kstatesParts") &&
			e.Status.CurrentState == "Each (40 running)" &&
			len(e.Status.CurrentStates) == 1 && e.Status.CurrentStates[0] == "Hold"
	})
	if n := len(e.Status.EngineState.Raw); n > 8192 {
		t.Errorf("the root document is %d bytes, want a small one", n)
	}
	// The root lists the chunks of the Map's iterations; the chunks refer to the values.
	var root struct {
		Parts struct {
			Children map[string][]string `json:"children"`
		} `json:"kstatesParts"`
	}
	if err := json.Unmarshal(e.Status.EngineState.Raw, &root); err != nil {
		t.Fatal(err)
	}
	bySHA := map[string]kstatesv1alpha1.Payload{}
	for _, p := range statePartsOf(ctx, t, e) {
		bySHA[p.Spec.SHA256] = p
	}
	var chunks []string
	for _, hs := range root.Parts.Children {
		chunks = append(chunks, hs...)
	}
	values := map[string]bool{}
	refs := regexp.MustCompile(`"\$kstatesRef":"([0-9a-f]{64})"`)
	for _, h := range chunks {
		p, ok := bySHA[h]
		if !ok {
			t.Fatalf("chunk %s is not stored", h)
		}
		for _, m := range refs.FindAllStringSubmatch(p.Spec.Data, -1) {
			v, ok := bySHA[m[1]]
			if !ok || v.Spec.Purpose != kstatesv1alpha1.PayloadEngineState || !strings.Contains(v.Spec.Data, strings.Repeat("y", 2048)) {
				t.Fatalf("value %s is not stored as an engine state part holding the iteration's data", m[1])
			}
			values[m[1]] = true
		}
	}
	if len(chunks) != 2 || len(values) != 40 {
		t.Errorf("%d chunks of threads referring to %d values, want 2 and 40", len(chunks), len(values))
	}
	stop()
	startManager(t, ns, nil)
	got := waitPhase(ctx, t, ns, "e", kstatesv1alpha1.ExecutionSucceeded)
	if got.Status.Output != `{"count":40}` {
		t.Errorf("output %s", got.Status.Output)
	}
	waitFor(ctx, t, got, "the state parts deleted", func(e *kstatesv1alpha1.Execution) bool {
		return len(statePartsOf(ctx, t, e)) == 0
	})
}
