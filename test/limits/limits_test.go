package limits

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/controllers"
	"github.com/kstates/kstates/internal/engine"
	"github.com/kstates/kstates/internal/engine/asl"
)

// The limits of issue 4, item 6, through the controller on a real API server. They take
// minutes, so they run only with KSTATES_LIMITS=1 (make test-limits).

// maxObjectBytes is the "no object over 1 MiB".
const maxObjectBytes = 1 << 20

func setup(t *testing.T) (context.Context, string) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	if os.Getenv("KSTATES_LIMITS") == "" {
		t.Skip("the limit tests take minutes: set KSTATES_LIMITS=1 (make test-limits)")
	}
	ctrl.SetLogger(logr.Discard())
	timeout := 25 * time.Minute
	if d, err := time.ParseDuration(os.Getenv("KSTATES_LIMITS_TIMEOUT")); err == nil {
		timeout = d
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	if path := os.Getenv("KSTATES_LIMITS_CPUPROFILE"); path != "" {
		// A CPU profile of the controller (and the test) for the length of the test.
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pprof.StopCPUProfile(); f.Close() })
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "kstates-limits-"}}
	if err := k8sClient.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		Cache:      cache.Options{DefaultNamespaces: map[string]cache.Config{ns.Name: {}}},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := (&controllers.StateMachineReconciler{Client: mgr.GetClient()}).SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	if err := (&controllers.ExecutionReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader()}).SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	mctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	t.Cleanup(func() { stop(); <-done })
	return ctx, ns.Name
}

// engineHistory runs the definition on the engine alone and returns its event types.
func engineHistory(t *testing.T, def, input string) (*engine.Result, []string) {
	t.Helper()
	d, diags := asl.Parse([]byte(def), asl.Options{})
	if d == nil || asl.HasErrors(diags) {
		t.Fatalf("definition: %v", diags)
	}
	p, err := engine.Compile(d)
	if err != nil {
		t.Fatal(err)
	}
	var in any
	if err := json.Unmarshal([]byte(input), &in); err != nil {
		t.Fatal(err)
	}
	res := p.Run(context.Background(), in, engine.RunOptions{Clock: engine.NewVirtualClock(time.Unix(0, 0))})
	types := make([]string, len(res.History))
	for i, e := range res.History {
		types[i] = e.Type
	}
	return res, types
}

func runExecution(ctx context.Context, t *testing.T, ns, def, input string) *kstatesv1alpha1.Execution {
	t.Helper()
	sm := &kstatesv1alpha1.StateMachine{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "m"}}
	sm.Spec.DefinitionString = def
	e := &kstatesv1alpha1.Execution{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "e"}}
	e.Spec.StateMachineName, e.Spec.Input = "m", input
	for _, o := range []client.Object{sm, e} {
		if err := k8sClient.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	for {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(e), e); err != nil {
			if ctx.Err() != nil {
				t.Fatalf("the execution did not end: %s at event %d", e.Status.CurrentState, e.Status.History.EventCount)
			}
			t.Fatal(err)
		}
		if e.Status.Phase.IsFinal() {
			t.Logf("%s after %v: %d events, %d chunks", e.Status.Phase, time.Since(start).Round(time.Second), e.Status.History.EventCount, e.Status.History.ChunkCount)
			return e
		}
		if ctx.Err() != nil {
			t.Fatalf("the execution did not end: %s at event %d", e.Status.CurrentState, e.Status.History.EventCount)
		}
		time.Sleep(time.Second)
	}
}

// readTypes reads the whole history in order (chunks, then the window) and checks ids.
func readTypes(ctx context.Context, t *testing.T, e *kstatesv1alpha1.Execution) []string {
	t.Helper()
	h := e.Status.History
	var types []string
	next := int64(1)
	add := func(evs []kstatesv1alpha1.HistoryEvent, where string) {
		for _, ev := range evs {
			if ev.ID != next {
				t.Fatalf("%s: event id %d, want %d", where, ev.ID, next)
			}
			next++
			types = append(types, ev.Type)
		}
	}
	for i := int32(0); i < h.ChunkCount; i++ {
		c := &kstatesv1alpha1.HistoryChunk{}
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: e.Namespace, Name: kstatesv1alpha1.HistoryChunkName(h.ChunkPrefix, i)}, c); err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
		add(c.Spec.Events, fmt.Sprintf("chunk %d", i))
	}
	add(h.Events, "window")
	return types
}

// An execution of 25,000 history events (AWS's limit) runs to its end with every event kept,
// readable in order, and the same as the engine's.
func TestHistoryOf25000Events(t *testing.T) {
	ctx, ns := setup(t)
	const def = `{"StartAt":"Inc","States":{
		"Inc":{"Type":"Pass","Parameters":{"n.$":"States.MathAdd($.n, 1)"},"Next":"Check"},
		"Check":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericLessThan":6248,"Next":"Inc"}],"Default":"Done"},
		"Done":{"Type":"Succeed"}}}`
	const input = `{"n":0}`
	res, want := engineHistory(t, def, input)
	if res.Status != engine.StatusSucceeded || len(want) < 24990 || len(want) > kstatesv1alpha1.MaxHistoryEvents {
		t.Fatalf("the engine alone: %s with %d events; the test wants just under 25,000", res.Status, len(want))
	}
	e := runExecution(ctx, t, ns, def, input)
	if e.Status.Phase != kstatesv1alpha1.ExecutionSucceeded {
		t.Fatalf("ended %s: %s %s", e.Status.Phase, e.Status.Error, e.Status.Cause)
	}
	got := readTypes(ctx, t, e)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("history of %d events differs from the engine's %d", len(got), len(want))
	}
	checkSizes(ctx, t, ns)
}

// A Map over 1,000 items whose iterations each build and carry about 100 KiB at the same
// time runs to its end, and no object is over 1 MiB.
func TestMapOf1000IterationsCarrying100KiB(t *testing.T) {
	ctx, ns := setup(t)
	seed := strings.Repeat("x", 800)
	var states []string
	states = append(states, `"Seed":{"Type":"Pass","Parameters":{"i.$":"$","s":"`+seed+`"},"Next":"D1"}`)
	for i := 1; i <= 7; i++ { // 800 * 2^7 = 102,400 bytes
		next := fmt.Sprintf(`"Next":"D%d"`, i+1)
		if i == 7 {
			next = `"Next":"Shrink"`
		}
		states = append(states, fmt.Sprintf(`"D%d":{"Type":"Pass","Parameters":{"i.$":"$.i","s.$":"States.Format('{}{}', $.s, $.s)"},%s}`, i, next))
	}
	states = append(states, `"Shrink":{"Type":"Pass","Parameters":{"i.$":"$.i","n.$":"States.ArrayLength(States.StringSplit($.s, 'y'))"},"End":true}`)
	def := `{"StartAt":"Items","States":{
		"Items":{"Type":"Pass","Parameters":{"items.$":"States.ArrayRange(1, 1000, 1)"},"Next":"Each"},
		"Each":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":0,"ResultSelector":{"count.$":"States.ArrayLength($)"},"End":true,
			"ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"Seed","States":{` + strings.Join(states, ",") + `}}}}}`
	servers := sampleServers(ctx, t)
	payloads := countPayloads(ctx, t, ns, "e-")
	e := runExecution(ctx, t, ns, def, `{}`)
	payloads.report(t)
	servers.report(t)
	if e.Status.Phase != kstatesv1alpha1.ExecutionSucceeded {
		t.Fatalf("ended %s: %s %s", e.Status.Phase, e.Status.Error, e.Status.Cause)
	}
	if e.Status.Output != `{"count":1000}` {
		t.Errorf("output %s, want a count of 1000", e.Status.Output)
	}
	if largest := checkSizes(ctx, t, ns); largest == 0 {
		t.Error("no object was measured")
	}
	// The state's parts are deleted once the execution ended; what is left is its history.
	if left := stateParts(ctx, t, ns, "e-"); len(left) > 0 {
		t.Errorf("%d engine state payloads are left after the execution ended, such as %s", len(left), left[0])
	}
}
