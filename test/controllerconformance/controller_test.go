// Package controllerconformance runs AWS-recorded conformance cases (the folder named by
// $KSTATES_CONFORMANCE_DIR) through the Kubernetes controller on a real API server and
// compares the pass rate with the engine's alone, judging both with
// internal/engine/conformance.
package controllerconformance

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/controllers"
	"github.com/kstates/kstates/internal/engine"
	"github.com/kstates/kstates/internal/engine/conformance"
	"github.com/kstates/kstates/test/testenv"
)

// Sampling: sampleSize cases without Task states in JSONPath mode, chosen by sampleSeed;
// cases whose Wait states really wait longer than maxWaitSeconds are skipped and counted
// (the controller's clock is real here).
const (
	sampleSize     = 200
	sampleSeed     = 4
	minRun         = 100
	maxWaitSeconds = 3
)

func TestConformanceThroughTheController(t *testing.T) {
	dir := os.Getenv("KSTATES_CONFORMANCE_DIR")
	if dir == "" {
		t.Skip("KSTATES_CONFORMANCE_DIR is not set: skipping the AWS-recorded conformance cases")
	}
	if skipReason != "" {
		t.Skip(skipReason)
	}
	all, err := conformance.LoadCases(dir)
	if err != nil {
		t.Fatal(err)
	}
	var pool []*conformance.Case
	for _, c := range all {
		if !c.HasFeature("jsonata") && !c.HasTask() {
			pool = append(pool, c)
		}
	}
	rng := rand.New(rand.NewPCG(sampleSeed, 0))
	rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	size := sampleSize
	if v := os.Getenv("KSTATES_CONTROLLER_CONFORMANCE_SAMPLE"); v != "" {
		// A larger sample, by hand (KSTATES_CONTROLLER_CONFORMANCE_SAMPLE=1000: all of them).
		if _, err := fmt.Sscan(v, &size); err != nil || size < minRun {
			t.Fatalf("KSTATES_CONTROLLER_CONFORMANCE_SAMPLE=%q: want a number of at least %d", v, minRun)
		}
	}
	sample := pool[:min(size, len(pool))]
	var cases []*conformance.Case
	skipped := map[string]int{}
	for _, c := range sample {
		if c.MaxWaitSeconds > maxWaitSeconds {
			skipped[fmt.Sprintf("Wait states of more than %d s", maxWaitSeconds)]++
			continue
		}
		cases = append(cases, c)
	}
	if len(cases) < minRun {
		t.Fatalf("only %d of %d sampled cases can run (skipped: %v)", len(cases), len(sample), skipped)
	}
	t.Logf("sample of %d cases (seed %d) from %d without Task states in JSONPath mode; %d run, skipped %v", len(sample), sampleSeed, len(pool), len(cases), skipped)

	// The engine alone.
	engineVerdicts := make([]conformance.Verdict, len(cases))
	for i, c := range cases {
		r, err := conformance.RunEngine(c)
		if err != nil {
			engineVerdicts[i] = conformance.Verdict{Why: err.Error()}
			continue
		}
		engineVerdicts[i] = conformance.Judge(c, r)
	}

	// Through the controller: every case as a StateMachine and an Execution, all at once.
	ctrl.SetLogger(logr.Discard())
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "kstates-conformance-"}}
	if err := k8sClient.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	startManager(t, ns.Name)
	started := time.Now()
	for i, c := range cases {
		sm := &kstatesv1alpha1.StateMachine{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: smName(i)}}
		sm.Spec.DefinitionString = string(c.Definition)
		sm.Spec.RoleArn = conformance.RoleArn // the recording's role, as AWS reports it
		if c.StateMachineType == "EXPRESS" {
			sm.Spec.Type = kstatesv1alpha1.StateMachineTypeExpress
		}
		e := &kstatesv1alpha1.Execution{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: execName(i)}}
		e.Spec.StateMachineName = sm.Name
		e.Spec.Input = string(c.Input)
		for _, o := range []client.Object{sm, e} {
			if err := k8sClient.Create(ctx, o); err != nil {
				t.Fatalf("%s: creating %s: %v", c.Name, o.GetName(), err)
			}
		}
	}
	execs := waitAllFinal(ctx, t, ns.Name, len(cases))
	t.Logf("%d executions ended through the controller in %v", len(cases), time.Since(started).Round(time.Millisecond))

	var ctrlPass, engPass, ctrlStrict, engStrict, ctrlHist, engHist, ctrlHistN, engHistN int
	for i, c := range cases {
		r := controllerResult(ctx, t, ns.Name, execs[execName(i)], i, c.StateMachineType == "EXPRESS")
		v, ev := conformance.Judge(c, r), engineVerdicts[i]
		count := func(v conformance.Verdict, pass, strict, hist, histN *int) {
			if v.Pass {
				*pass++
				if v.StrictCause {
					*strict++
				}
			}
			if v.HistoryCompared {
				*histN++
				if v.HistoryMatch {
					*hist++
				}
			}
		}
		count(v, &ctrlPass, &ctrlStrict, &ctrlHist, &ctrlHistN)
		count(ev, &engPass, &engStrict, &engHist, &engHistN)
		switch {
		case ev.Pass && !v.Pass:
			t.Logf("FAIL through the controller only: %s: %s", c.Name, v.Why)
		case !v.Pass:
			t.Logf("fail (engine too): %s: %s", c.Name, v.Why)
		}
		if v.HistoryCompared && !v.HistoryMatch && ev.HistoryMatch {
			t.Logf("history differs through the controller only: %s\n  got  %v\n  want %v", c.Name, r.HistoryTypes, c.ExpectedHistoryTypes)
		}
	}
	fmt.Printf("controller-conformance: strict (cause matches too): controller %d, engine %d\n", ctrlStrict, engStrict)
	fmt.Printf("controller-conformance: history types match: controller %d/%d, engine %d/%d\n", ctrlHist, ctrlHistN, engHist, engHistN)
	fmt.Printf("controller-conformance: %d passed, %d failed (engine alone: %d passed)\n", ctrlPass, len(cases)-ctrlPass, engPass)
	if ctrlPass < engPass {
		t.Errorf("the controller passes %d cases, fewer than the engine alone (%d)", ctrlPass, engPass)
	}
}

func smName(i int) string   { return fmt.Sprintf("kxmachine%03d", i) }
func execName(i int) string { return fmt.Sprintf("kxexecution%03d", i) }

// startManager runs both reconcilers in this process, watching ns, until the test ends.
func startManager(t *testing.T, ns string) {
	t.Helper()
	mgr, err := ctrl.NewManager(restConfig, testenv.ManagerOptions(scheme, ns, 8))
	if err != nil {
		t.Fatal(err)
	}
	if err := (&controllers.StateMachineReconciler{Client: mgr.GetClient()}).SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	if err := (&controllers.ExecutionReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader()}).SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
}

// waitAllFinal waits until n executions in ns have ended and returns them by name.
func waitAllFinal(ctx context.Context, t *testing.T, ns string, n int) map[string]*kstatesv1alpha1.Execution {
	t.Helper()
	for {
		list := &kstatesv1alpha1.ExecutionList{}
		if err := k8sClient.List(ctx, list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		out := map[string]*kstatesv1alpha1.Execution{}
		var open []string
		for i := range list.Items {
			e := &list.Items[i]
			if e.Status.Phase.IsFinal() {
				out[e.Name] = e
			} else {
				open = append(open, e.Name+" ("+string(e.Status.Phase)+" "+e.Status.CurrentState+")")
			}
		}
		if len(out) == n {
			return out
		}
		if ctx.Err() != nil {
			t.Fatalf("%d executions have not ended: %s", len(open), strings.Join(open, ", "))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// controllerResult reads an ended execution's outcome and whole history, and rewrites the
// controller's names for the execution ($$.Execution.Id and .Name, $$.StateMachine.Id and
// .Name) into the recording's, so that the case's normalisation applies unchanged.
func controllerResult(ctx context.Context, t *testing.T, ns string, e *kstatesv1alpha1.Execution, i int, express bool) conformance.Result {
	t.Helper()
	rename := strings.NewReplacer(
		controllers.ExecutionARN(ns, smName(i), execName(i)), conformance.ExecutionARN,
		controllers.StateMachineARN(ns, smName(i)), conformance.StateMachineARN,
		execName(i), conformance.ExecutionName,
		smName(i), conformance.StateMachine,
	).Replace
	st := e.Status
	r := conformance.Result{Error: st.Error, Cause: rename(st.Cause)}
	switch st.Phase {
	case kstatesv1alpha1.ExecutionSucceeded:
		r.Status = engine.StatusSucceeded
	case kstatesv1alpha1.ExecutionFailed:
		r.Status = engine.StatusFailed
	case kstatesv1alpha1.ExecutionTimedOut:
		r.Status = engine.StatusTimedOut
	case kstatesv1alpha1.ExecutionAborted:
		r.Status = engine.StatusAborted
	}
	out := st.Output
	if st.OutputRef != nil {
		p := &kstatesv1alpha1.Payload{}
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: st.OutputRef.Name}, p); err != nil {
			t.Fatalf("%s: reading the output payload: %v", e.Name, err)
		}
		out = p.Spec.Data
	}
	if r.Status == engine.StatusSucceeded {
		if err := json.Unmarshal([]byte(out), &r.Output); err != nil {
			t.Errorf("%s: output %q is not JSON: %v", e.Name, out, err)
		}
		r.Output = conformance.MapStrings(r.Output, func(_ string, s string) any { return rename(s) }, nil)
	}
	if express {
		return r
	}
	h := st.History
	for c := int32(0); c < h.ChunkCount; c++ {
		chunk := &kstatesv1alpha1.HistoryChunk{}
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: kstatesv1alpha1.HistoryChunkName(h.ChunkPrefix, c)}, chunk); err != nil {
			t.Fatalf("%s: reading history chunk %d: %v", e.Name, c, err)
		}
		for _, ev := range chunk.Spec.Events {
			r.HistoryTypes = append(r.HistoryTypes, ev.Type)
		}
	}
	for _, ev := range h.Events {
		r.HistoryTypes = append(r.HistoryTypes, ev.Type)
	}
	if int64(len(r.HistoryTypes)) != h.EventCount {
		t.Errorf("%s: %d events readable, eventCount %d", e.Name, len(r.HistoryTypes), h.EventCount)
	}
	return r
}
