package envtest

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/controllers"
)

// An execution of 25,000 history events (AWS's limit) runs to its end with every event kept,
// readable in order over the chunks and the window, and no object near etcd's limit. It takes
// a few minutes (12,497 transitions), so it runs only with KSTATES_LONG_TESTS=1.
func TestHistoryOf25000Events(t *testing.T) {
	if os.Getenv("KSTATES_LONG_TESTS") == "" {
		t.Skip("set KSTATES_LONG_TESTS=1 to run (a few minutes)")
	}
	_, ns := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	startManager(t, ns, nil)
	// 4 events per iteration, plus ExecutionStarted, MapStateEntered, MapStateStarted,
	// MapStateSucceeded, MapStateExited and ExecutionSucceeded: 24,998 events.
	// A loop of a Pass and a Choice: 4 events a round, plus ExecutionStarted and the final
	// Succeed's two events and ExecutionSucceeded: 4*6248+4 = 24,996 events, 12,497 transitions.
	const rounds = 6248
	create(ctx, t, makeStateMachine(ns, "loop", `{"StartAt":"Inc","States":{
		"Inc":{"Type":"Pass","Parameters":{"i.$":"States.MathAdd($.i, 1)"},"Next":"More"},
		"More":{"Type":"Choice","Choices":[{"Variable":"$.i","NumericLessThan":`+strconv.Itoa(rounds)+`,"Next":"Inc"}],"Default":"Done"},
		"Done":{"Type":"Succeed"}}}`).obj(),
		makeExecution(ns, "e").stateMachine("loop").input(`{"i":0}`).obj())
	start := time.Now()
	e := &kstatesv1alpha1.Execution{ObjectMeta: metaName(ns, "e")}
	deadline := time.Now().Add(15 * time.Minute)
	for {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(e), e); err != nil {
			t.Fatal(err)
		}
		if e.Status.Phase.IsFinal() || time.Now().After(deadline) {
			break
		}
		if time.Since(start) > time.Minute && int(time.Since(start).Seconds())%30 == 0 {
			t.Logf("after %v: %d events", time.Since(start).Round(time.Second), e.Status.History.EventCount)
		}
		time.Sleep(time.Second)
	}
	if e.Status.Phase != kstatesv1alpha1.ExecutionSucceeded || e.Status.Output != `{"i":`+strconv.Itoa(rounds)+`}` {
		t.Fatalf("phase %s output %q error %s %s", e.Status.Phase, e.Status.Output, e.Status.Error, e.Status.Cause)
	}
	types := historyTypes(ctx, t, e)
	if len(types) != 4*rounds+4 {
		t.Errorf("%d events, want %d", len(types), 4*rounds+4)
	}
	chunks := &kstatesv1alpha1.HistoryChunkList{}
	if err := k8sClient.List(ctx, chunks, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	largest := 0
	for _, c := range chunks.Items {
		b, _ := json.Marshal(&c)
		largest = max(largest, len(b))
	}
	d := time.Since(start)
	t.Logf("%d events, %d chunks (largest %d bytes), %d transitions in %v (%.0f/s)", len(types), e.Status.History.ChunkCount, largest,
		2*rounds+1, d.Round(time.Second), float64(2*rounds+1)/d.Seconds())
}

// An execution whose history grows beyond the limit (AWS's 25,000 events; 30 here) fails with
// States.Runtime, keeping the events recorded so far.
func TestHistoryLimitFailsTheExecution(t *testing.T) {
	ctx, ns := setup(t)
	startManagerWith(t, ns, nil, func(r *controllers.ExecutionReconciler) { r.MaxHistoryEvents = 30 })
	create(ctx, t, makeStateMachine(ns, "loop", `{"StartAt":"Inc","States":{
		"Inc":{"Type":"Pass","Parameters":{"i.$":"States.MathAdd($.i, 1)"},"Next":"More"},
		"More":{"Type":"Choice","Choices":[{"Variable":"$.i","NumericLessThan":100,"Next":"Inc"}],"Default":"Done"},
		"Done":{"Type":"Succeed"}}}`).obj(),
		makeExecution(ns, "e").stateMachine("loop").input(`{"i":0}`).obj())
	got := waitPhase(ctx, t, ns, "e", kstatesv1alpha1.ExecutionFailed)
	if got.Status.Error != "States.Runtime" || !strings.Contains(got.Status.Cause, "limit of 30 events") ||
		got.Status.History.EventCount != 31 || len(historyTypes(ctx, t, got)) != 31 {
		t.Errorf("error %q cause %q eventCount %d", got.Status.Error, got.Status.Cause, got.Status.History.EventCount)
	}
}
